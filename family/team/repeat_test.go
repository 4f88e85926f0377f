package team_test

import (
	"bytes"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/team"
)

// The team driver repeats item-option and item-port nests (the project
// overlay marks them multi-attr): options-get and port-list-get replies
// keep every one, in wire order, and encode back to the same bytes.
func TestRepeatedOptionsAndPorts(t *testing.T) {
	// As team_nl_send_options_get and team_nl_send_port_list_get build
	// them: one list nest holding an item nest per option or port.
	const nlaU32, nlaString, nlaFlag = 3, 5, 6
	var e attrs.Encoder
	e.U32(team.AttrTeamIfindex, 7)
	list := e.Nest(team.AttrListOption)
	for _, o := range []struct {
		name string
		typ  uint8
		data []byte
	}{
		{"mode", nlaString, []byte("activebackup\x00")},
		{"lb_hash", nlaU32, []byte{1, 0, 0, 0}},
		{"enabled", nlaFlag, nil},
	} {
		item := e.Nest(team.AttrItemOption)
		e.String(team.AttrOptionName, o.name)
		e.U8(team.AttrOptionType, o.typ)
		e.Binary(team.AttrOptionData, o.data)
		e.End(item)
	}
	e.End(list)
	ports := e.Nest(team.AttrListPort)
	for _, ifindex := range []uint32{11, 12} {
		item := e.Nest(team.AttrItemPort)
		e.U32(team.AttrPortIfindex, ifindex)
		e.Flag(team.AttrPortLinkup)
		e.U32(team.AttrPortSpeed, 10000)
		e.U8(team.AttrPortDuplex, 1)
		e.End(item)
	}
	e.End(ports)
	msg := bytes.Clone(e.Bytes())

	var v team.Team
	if err := v.UnmarshalAttrs(msg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range v.ListOption.Option {
		names = append(names, o.Name.Value)
	}
	if got := len(names); got != 3 || names[0] != "mode" || names[1] != "lb_hash" || names[2] != "enabled" {
		t.Errorf("options %q, want [mode lb_hash enabled]", names)
	}
	if len(v.ListPort.Port) != 2 || v.ListPort.Port[0].Ifindex.Value != 11 || v.ListPort.Port[1].Ifindex.Value != 12 {
		t.Errorf("ports %+v, want ifindex 11 and 12", v.ListPort.Port)
	}
	var out attrs.Encoder
	if err := v.MarshalAttrs(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), msg) {
		t.Errorf("re-encoded:\n% x\nwant\n% x", out.Bytes(), msg)
	}
}
