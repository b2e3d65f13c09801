package service

import (
	sidecarv1 "github.com/arl-infra/arl/proto/gen/arl/sidecar/v1"
	"github.com/arl-infra/arl/sidecar/internal/files"
)

// fileChunkBytes is the data carried by one streamed download message.
const fileChunkBytes = 256 << 10

func fileInfo(i files.Info) *sidecarv1.FileInfo {
	return &sidecarv1.FileInfo{
		Name:          i.Name,
		Path:          i.Path,
		Type:          fileType(i.Type),
		Size:          i.Size,
		Mode:          uint32(i.Mode),
		ModifiedAtMs:  i.ModTime.UnixMilli(),
		SymlinkTarget: i.SymlinkTarget,
	}
}

func fileType(t files.FileType) sidecarv1.FileType {
	switch t {
	case files.TypeFile:
		return sidecarv1.FileType_FILE_TYPE_FILE
	case files.TypeDir:
		return sidecarv1.FileType_FILE_TYPE_DIRECTORY
	case files.TypeSymlink:
		return sidecarv1.FileType_FILE_TYPE_SYMLINK
	case files.TypeOther:
		return sidecarv1.FileType_FILE_TYPE_OTHER
	}
	return sidecarv1.FileType_FILE_TYPE_UNSPECIFIED
}

func fileOp(op files.Op) sidecarv1.FileOp {
	switch op {
	case files.OpCreate:
		return sidecarv1.FileOp_FILE_OP_CREATE
	case files.OpWrite:
		return sidecarv1.FileOp_FILE_OP_WRITE
	case files.OpRemove:
		return sidecarv1.FileOp_FILE_OP_REMOVE
	case files.OpRename:
		return sidecarv1.FileOp_FILE_OP_RENAME
	case files.OpChmod:
		return sidecarv1.FileOp_FILE_OP_CHMOD
	}
	return sidecarv1.FileOp_FILE_OP_UNSPECIFIED
}
