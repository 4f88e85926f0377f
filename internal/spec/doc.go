// Package spec loads the Linux kernel's YNL generic netlink family specs
// (Documentation/netlink/specs/*.yaml) into a resolved, position-aware
// model, for the code generator and the CLI.
//
// # Validation
//
// A spec is checked against the JSON schema of its protocol, the
// genetlink, genetlink-c or genetlink-legacy flavour of
// Documentation/netlink/genetlink*.yaml: unknown keys, keys of a richer
// flavour (e.g. "version" in a plain genetlink spec), values of the wrong
// kind, invalid enumerated values and names not matching the schema's
// pattern are errors. netlink-raw specs are rejected. Then references are
// resolved (attribute sets, enums, structs, consts, operations, multicast
// groups) and semantic problems are reported: duplicates, values out of
// range, nests without nested-attributes, struct members without a size.
// Errors name the file, line and column:
//
//	netdev.yaml:212:7: attribute "foo" in set "dev" references unknown attribute set "bar"
//
// # Resolution
//
// Everything implicit in a spec is made explicit:
//
//   - Attributes are numbered from 1 in list order; an explicit "value"
//     restarts the count (the next attribute gets value+1).
//   - Attributes of a subset ("subset-of") are complete: the parent's
//     attribute with the keys the subset writes applied over it. Their
//     values are the parent's.
//   - Enum entries count from "value-start" (default 0); an explicit "value"
//     restarts the count. Flags entries are numbered the same way, but the
//     numbers are bit positions: the flag's value is 1<<n (Entry.Mask).
//   - Struct members get their size and offset; structs are packed (specs
//     spell out padding members) and Definition.Size is their sum.
//   - Check bounds written as const names ("wg-key-len"), "<const> - 1" or
//     type limits ("u32-max", "s32-min") become numbers (Bound).
//   - Operations get their command values according to the enum model; see
//     Op for the unified and directional rules and Message.Value for
//     per-message overrides (devlink's port-get dump replies).
//
// Tests find the kernel specs with package spectest.
package spec
