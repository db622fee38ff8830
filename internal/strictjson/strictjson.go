// Package strictjson decodes JSON that tapestry wrote itself (architecture
// specifications, saved options, checkpoint metadata) strictly: an unknown
// field or anything after the value is an error, so that a file from
// another version, or an edited one, is refused rather than half read.
package strictjson

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/pkg/errors"
)

// Decode decodes the one JSON value in b into v, refusing fields v does not
// have and data after the value.
func Decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the value")
	}
	return nil
}
