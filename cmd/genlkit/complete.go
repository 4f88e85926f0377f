package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/genlkit/genlkit/family"
)

const bashCompletion = `# bash completion for genlkit; load with: source <(genlkit completion bash)
_genlkit() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
	if [[ ${#COMPREPLY[@]} -eq 0 && ( "${COMP_WORDS[COMP_CWORD-1]}" == --spec || "$cur" == @* ) ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _genlkit genlkit
`

const zshCompletion = `#compdef genlkit
# zsh completion for genlkit; load with: source <(genlkit completion zsh)
_genlkit() {
	local -a candidates
	candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	if [[ ${words[CURRENT-1]} == --spec ]]; then
		_files
		return
	fi
	compadd -- "${candidates[@]}"
}
compdef _genlkit genlkit
`

const fishCompletion = `# fish completion for genlkit; load with: genlkit completion fish | source
function __genlkit_complete
	set -l words (commandline -opc) (commandline -ct)
	$words[1] __complete $words[2..-1] 2>/dev/null
end
complete -c genlkit -f -a '(__genlkit_complete)'
complete -c genlkit -l spec -r -F
`

func (a *app) cmdCompletion(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 1); err != nil {
		return err
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(a.stdout, bashCompletion)
	case "zsh":
		fmt.Fprint(a.stdout, zshCompletion)
	case "fish":
		fmt.Fprint(a.stdout, fishCompletion)
	default:
		return usagef("Shells: bash, zsh, fish.", "no completion for shell %q", args[0])
	}
	return nil
}

// cmdComplete prints the candidates for the last word of a command line
// (the words after "genlkit", the last one being completed, possibly
// empty), one per line. Shell completion scripts call it.
func (a *app) cmdComplete(words []string) error {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	prev := ""
	if len(words) > 1 {
		prev = words[len(words)-2]
	}
	// Separate positional words from flags, skipping flag values.
	var pos []string
	var cmd *command
	valueFlags := map[string]bool{"netns": true, "output": true, "o": true, "spec": true, "timeout": true,
		"json": true, "op": true, "duration": true, "count": true}
	for i := 0; i < len(words)-1; i++ {
		w := words[i]
		if strings.HasPrefix(w, "-") {
			name := strings.TrimLeft(w, "-")
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				continue
			}
			if valueFlags[name] {
				i++
			}
			// --spec FILE changes which descriptor names ops.
			if name == "spec" && i < len(words)-1 {
				a.specArg = words[i]
			}
			if name == "netns" && i < len(words)-1 {
				a.netns = words[i]
			}
			continue
		}
		pos = append(pos, w)
	}
	if len(pos) > 0 {
		cmd = findCommand(pos[0])
	}
	var out []string
	switch {
	case prev == "--output" || prev == "-output" || prev == "-o":
		out = []string{"json", "table"}
	case prev == "--spec" || prev == "--json" || prev == "--netns" || prev == "--timeout" || prev == "--duration" || prev == "--count":
		// A file, JSON or a value: the shell's own completion.
	case prev == "--op" && cmd != nil && len(pos) >= 2:
		out = a.completeOps(pos[1], "do")
	case strings.HasPrefix(cur, "-"):
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		globalFlags(&app{}, fs)
		if cmd != nil && cmd.flags != nil {
			cmd.flags(&app{}, fs)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "o" {
				out = append(out, "--"+f.Name)
			}
		})
	case cmd == nil:
		out = commandNames(false)
	default:
		out = a.completeArgs(cmd, pos[1:])
	}
	sort.Strings(out)
	for _, s := range out {
		if strings.HasPrefix(s, cur) {
			fmt.Fprintln(a.stdout, s)
		}
	}
	return nil
}

// completeArgs returns the candidates for the next positional argument of
// cmd, given those before it.
func (a *app) completeArgs(cmd *command, args []string) []string {
	switch cmd.name {
	case "completion":
		if len(args) == 0 {
			return []string{"bash", "zsh", "fish"}
		}
	case "help":
		if len(args) == 0 {
			return commandNames(false)
		}
	case "families":
	case "family", "check", "batch", "spec":
		if len(args) == 0 {
			return a.completeFamilies()
		}
	case "ops":
		switch len(args) {
		case 0:
			return a.completeFamilies()
		case 1:
			return a.completeOps(args[0], "")
		}
	case "do", "dump":
		switch len(args) {
		case 0:
			return a.completeFamilies()
		case 1:
			return a.completeOps(args[0], cmd.name)
		}
	case "subscribe":
		if len(args) == 0 {
			return a.completeFamilies()
		}
		return a.completeGroups(args[0])
	}
	return nil
}

func (a *app) completeFamilies() []string {
	return a.knownFamilyNames(a.liveFamilies())
}

func (a *app) completeOps(fam, form string) []string {
	desc, err := a.descriptor(fam)
	if err != nil || desc == nil {
		return nil
	}
	return opNames(desc.desc, form)
}

func (a *app) completeGroups(fam string) []string {
	var out []string
	if f, err := a.liveFamily(fam); err == nil {
		for _, g := range f.Groups {
			out = append(out, g.Name)
		}
		return out
	}
	if d, ok := family.Lookup(fam); ok {
		return d.Groups
	}
	return nil
}
