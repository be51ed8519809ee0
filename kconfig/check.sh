#!/usr/bin/env bash
# Fails when an option a fragment asks for did not make it into the final .config (a typo,
# a missing dependency, or a symbol that does not exist in this kernel version).
# Usage: check.sh FINAL_CONFIG FRAGMENT...
set -euo pipefail
final=$1; shift
bad=0
for frag in "$@"; do
  while IFS= read -r line; do
    case $line in
      CONFIG_*=*) want=$line ;;
      "# CONFIG_"*" is not set") want=$line ;;
      *) continue ;;
    esac
    sym=${want#\# }; sym=${sym%%[= ]*}
    if ! grep -qxF "$want" "$final"; then
      # "is not set" is also satisfied by the symbol being absent (its dependencies are off).
      if [[ $want == "#"* ]] && ! grep -q "^$sym=" "$final"; then continue; fi
      got=$(grep -E "^$sym=|^# $sym is not set" "$final" || echo "absent")
      echo "kconfig: $frag wants '$want', final config has '$got'" >&2
      bad=1
    fi
  done < "$frag"
done
[ $bad = 0 ] && echo "kconfig: all $(cat "$@" | grep -cE '^(CONFIG_|# CONFIG_)') requested options present"
exit $bad
