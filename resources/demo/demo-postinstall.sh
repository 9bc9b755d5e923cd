#!/bin/sh
# Dockhand demo post-install command. It proves the command ran by writing a marker file next to
# this script (the package's local destination) and touches nothing else.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
date -u +"Dockhand demo package installed at %Y-%m-%dT%H:%M:%SZ" > "$here/dockhand-demo-installed.txt"
echo "Dockhand demo: wrote $here/dockhand-demo-installed.txt"
