package client

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeFast(t *testing.T) {
	tests := []struct {
		msg  string
		fast bool
	}{
		{`{"type":"ack","doc":"art-17","seq":12,"rev":58}`, true},
		{`{"type":"op","doc":"art-17","rev":58,"op":[123,"shall ",{"d":"]\"["}],"client":"c-7f3a","seq":12,"by":{"delegation":"CAN","name":"Ana Silva"},"ts":1795000000000}`, true},
		{`{"type":"op","doc":"d","rev":1,"op":["締約国 😭"],"client":"c","seq":1,"by":{"delegation":"FRA","name":"Luc Élysée"},"ts":1}`, true},
		{`{"type":"ack","doc":"art-17","seq":12,"rev":58,"ref":"x"}`, false},
		{`{"type":"op","doc":"d","rev":2,"op":[1],"client":"_draftroom","seq":2,"by":{"delegation":"CAN","name":"A"},"ts":3,"kind":"resolve","group":"b0.1"}`, false},
		{`{"type":"op","doc":"d","rev":2,"op":[1],"client":"c","seq":2,"by":{"delegation":"CAN","name":"A \"B\""},"ts":3}`, false},
		{`{"doc":"d","type":"ack","seq":1,"rev":2}`, false},
		{`{"type":"ack","doc":"d","seq":01,"rev":2}`, false},
		{`{"type":"ack","doc":"d","seq":1.5,"rev":2}`, false},
		{`{"type":"snapshot","doc":"d","rev":0,"text":"x","present":[]}`, false},
	}
	for _, tt := range tests {
		var fast, slow inMsg
		ok := decodeFast([]byte(tt.msg), &fast)
		if ok != tt.fast {
			t.Errorf("decodeFast(%s) = %v, want %v", tt.msg, ok, tt.fast)
			continue
		}
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(tt.msg), &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s:\nfast %+v\nslow %+v", tt.msg, fast, slow)
		}
	}
}

// FuzzDecodeFast: whatever decodeFast accepts, encoding/json reads the same
// way (the op array is checked by ot's decoder later, so only its bytes
// are compared when it is valid JSON).
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(`{"type":"ack","doc":"art-17","seq":12,"rev":58}`))
	f.Add([]byte(`{"type":"op","doc":"art-17","rev":58,"op":[123,"shall ",{"d":"]\"["}],"client":"c-7f3a","seq":12,"by":{"delegation":"CAN","name":"Ana"},"ts":1795000000000}`))
	f.Add([]byte(`{"type":"op","doc":"d","rev":1,"op":[[],{},"\\"],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast inMsg
		if !decodeFast(data, &fast) {
			return
		}
		if !json.Valid(fast.Op) {
			return // refused by ot's decoder when the op is applied
		}
		var slow inMsg
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("decodeFast accepted %q, encoding/json: %v", data, err)
		}
		if string(fast.Op) != string(slow.Op) {
			t.Fatalf("%q: op %s, encoding/json %s", data, fast.Op, slow.Op)
		}
		fast.Op, slow.Op = nil, nil
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", data, fast, slow)
		}
	})
}
