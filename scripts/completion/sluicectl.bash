# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion for sluicectl: commands, options, and the VIPs and backend
# addresses of the running sluiced.
#
# The command list is read from `sluicectl --help`, so completion always
# matches the installed sluicectl. VIPs and addresses come from
# `sluicectl -j ... list` over the control socket (root only: as another
# user they are simply not offered).

_sluicectl_commands() {
	# "  backend drain [VIP] ADDR ..." -> "backend drain"
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{
		s/^  \([a-z][a-z-]*\)\( [a-z][a-z-]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p
	}'
}

_sluicectl_json_values() {	# sluicectl socket-args key list-command...
	local ctl=$1 key=$2
	shift 2
	"$ctl" "${sock[@]}" -j "$@" 2>/dev/null |
		grep -o "\"$key\": *\"[^\"]*\"" | sed 's/.*: *"\(.*\)"/\1/' | sort -u
}

_sluicectl() {
	local cur prev ctl=${COMP_WORDS[0]} i w obj= verb= nargs=0
	local -a sock=() words=()
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-s | --socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--weight | --count | --timeout | --interval | --name | --cluster | --prefix)
		return
		;;
	esac

	# What is on the line so far: global options, object, verb, arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-s | --socket)
			sock=(-s "${COMP_WORDS[i + 1]}")
			i=$((i + 1))
			;;
		--weight | --count | --timeout | --interval | --name | --cluster | --prefix)
			i=$((i + 1)) ;;
		-*) ;;
		*)
			if [[ -z $obj ]]; then
				obj=$w
			elif [[ -z $verb ]] && _sluicectl_commands "$ctl" | grep -qx "$obj $w"; then
				verb=$w
			else
				nargs=$((nargs + 1))
			fi
			;;
		esac
	done

	if [[ $cur == -* ]]; then
		if [[ -z $obj ]]; then
			words=(-s --socket -j --json -v --verbose -h --help --version --cluster --prefix)
		else
			words=(--help)
			case "$obj $verb" in
			"backend add") words+=(--weight --name) ;;
			"backend drain") words+=(--wait --timeout) ;;
			"top ") words+=(--interval --count) ;;
			esac
		fi
		COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
		return
	fi
	if [[ -z $obj ]]; then
		COMPREPLY=($(compgen -W "$(_sluicectl_commands "$ctl" | cut -d' ' -f1 | sort -u)" -- "$cur"))
		return
	fi
	if [[ -z $verb ]] && _sluicectl_commands "$ctl" | grep -q "^$obj "; then
		COMPREPLY=($(compgen -W "$(_sluicectl_commands "$ctl" | sed -n "s/^$obj \(.*\)/\1/p")" -- "$cur"))
		return
	fi
	# Arguments: the first is a VIP (or, for drain/undrain, an address),
	# the second an address.
	if ((nargs == 0)); then
		words=($(_sluicectl_json_values "$ctl" vip vip list))
		case $verb in
		drain | undrain) words+=($(_sluicectl_json_values "$ctl" backend backend list)) ;;
		esac
	elif ((nargs == 1)) && [[ $obj == backend ]]; then
		words=($(_sluicectl_json_values "$ctl" backend backend list))
	fi
	COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
}

complete -F _sluicectl sluicectl
