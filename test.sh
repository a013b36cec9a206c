#!/usr/bin/env bash
# Runs every test of the solution. Installs what the tests need from Debian (mosquitto,
# victoria-metrics, chromium; clang for the NativeAOT agent) when it is missing and the script runs as root; otherwise the tests that need
# it fail and say so.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
[ -x /usr/bin/victoria-metrics ] || missing+=(victoria-metrics)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# NativeAOT links with clang; a versioned clang-14..19 alone is found too (edge-agent csproj).
command -v clang >/dev/null 2>&1 || compgen -c | grep -qE '^clang-1[4-9]$' || missing+=(clang)

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  else
    echo "test.sh: missing ${missing[*]}: the tests that need it will fail. Install with: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

dotnet build NewTechPark.Edge.sln

# The fault suite (Reliability.Tests) is serial by design: about 7 minutes, mostly waiting on
# outages and restarts. It starts first and runs beside the other projects, which run one after
# the other; left to `dotnet test NewTechPark.Edge.sln`, MSBuild started it after the browser and
# end-to-end projects and the whole run took 16-17 minutes on 2 cores.
status=0
dotnet test tests/Reliability.Tests/Reliability.Tests.csproj --no-build "$@" &
reliability=$!
for project in tests/*.Tests/*.Tests.csproj; do
  [ "$project" = tests/Reliability.Tests/Reliability.Tests.csproj ] && continue
  dotnet test "$project" --no-build "$@" || status=1
done
wait "$reliability" || status=1
exit "$status"
