package testenv

import (
	"os"

	"go.uber.org/zap/zapcore"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/config"
)

// ctrlConfig lets every test package name its controllers freely (one
// manager per package, so the names never clash in practice).
func ctrlConfig() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}

// zapLevel keeps test output to errors, or everything with ARL_TEST_DEBUG=1.
func zapLevel() zapcore.Level {
	if os.Getenv("ARL_TEST_DEBUG") == "1" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
