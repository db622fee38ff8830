package graph

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// specProblem says why values of the struct type t could not come back
// from their JSON specification as they were, or "" if they can: a field
// that is not exported is not written at all (a layer whose config lives
// there would reload changed, without an error), and a field of interface
// type (such as a Layer) is written but cannot be read back. A type with
// its own MarshalJSON and UnmarshalJSON (the latter on its pointer) writes
// itself and is trusted to round-trip; so is a field tagged `json:"-"`,
// which its author has said is not part of the specification (Dense's
// WeightInit: it only matters before the weights exist).
func specProblem(t reflect.Type) string {
	if t.Implements(reflect.TypeFor[json.Marshaler]()) && reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return ""
	}
	return fieldProblem(t, t.Name(), map[reflect.Type]bool{})
}

// fieldProblem is specProblem for the fields of struct t, named by path.
func fieldProblem(t reflect.Type, path string, seen map[reflect.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
			continue
		}
		name := path + "." + f.Name
		if !f.IsExported() {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				// An embedded struct's exported fields are written.
				if p := fieldProblem(f.Type, path, seen); p != "" {
					return p
				}
				continue
			}
			return fmt.Sprintf("field %s is not exported, so its JSON specification does not hold it and a checkpoint would reload it as the zero value", name)
		}
		if p := typeProblem(f.Type, name, seen); p != "" {
			return p
		}
	}
	return ""
}

// typeProblem is specProblem for a field of type t, named by path.
func typeProblem(t reflect.Type, path string, seen map[reflect.Type]bool) string {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || t.Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return ""
	}
	switch t.Kind() {
	case reflect.Interface:
		return fmt.Sprintf("field %s is of interface type %v, which JSON can write but not read back: give the type MarshalJSON and UnmarshalJSON methods (graph.MarshalLayer and graph.UnmarshalLayer write and read a Layer by its registered name)", path, t)
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Sprintf("field %s is of type %v, which JSON cannot write", path, t)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeProblem(t.Elem(), path+"[]", seen)
	case reflect.Map:
		if p := typeProblem(t.Key(), path+"{key}", seen); p != "" {
			return p
		}
		return typeProblem(t.Elem(), path+"{}", seen)
	case reflect.Struct:
		return fieldProblem(t, path, seen)
	}
	return ""
}
