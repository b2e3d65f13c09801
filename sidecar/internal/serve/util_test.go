package serve

import (
	"os"
	"strconv"
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
func itoa(i int) string                    { return strconv.Itoa(i) }
