package vmdisk

import (
	"reflect"
	"testing"
)

func TestSubtract(t *testing.T) {
	cases := []struct{ a, b, want []extent }{
		{[]extent{{0, 100}}, nil, []extent{{0, 100}}},
		{[]extent{{0, 100}}, []extent{{0, 100}}, nil},
		{[]extent{{0, 100}}, []extent{{10, 10}, {50, 60}}, []extent{{0, 10}, {20, 30}}},
		{[]extent{{0, 10}, {20, 10}}, []extent{{5, 20}}, []extent{{0, 5}, {25, 5}}},
		{[]extent{{10, 10}}, []extent{{0, 5}, {30, 5}}, []extent{{10, 10}}},
	}
	for _, c := range cases {
		if got := subtract(c.a, c.b); !reflect.DeepEqual(got, c.want) {
			t.Errorf("subtract(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
