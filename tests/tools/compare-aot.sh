#!/usr/bin/env bash
# ../shared/anchors/go-relay/compare.sh against otelai's Native AOT executable. compare.sh starts the engine as
# `dotnet $OTELAI_DLL ...`; a `dotnet` shim first on PATH execs the AOT executable for that one path (exec keeps the
# PID, so compare.sh measures the AOT process itself) and hands every other call to the real dotnet.
# usage (from the project root): tests/tools/compare-aot.sh [ROUNDS]     env: AOT_DIR (default artifacts/aot), as compare.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
aot="${AOT_DIR:-$root/artifacts/aot}"
if [ ! -x "$aot/otelai" ]; then
  dotnet publish "$root/engine/Cli/OtelAi.Cli.csproj" -c Release -r linux-x64 -p:PublishAot=true -o "$aot" -nologo -v q -clp:ErrorsOnly
fi
shim="$(mktemp -d /tmp/otelai-aot-shim.XXXXXX)"
trap 'rm -rf "$shim"' EXIT
real_dotnet="$(command -v dotnet)"
touch "$shim/otelai-aot.dll"
cat > "$shim/dotnet" <<SH
#!/usr/bin/env bash
if [ "\${1:-}" = "$shim/otelai-aot.dll" ]; then shift; exec "$aot/otelai" "\$@"; fi
exec "$real_dotnet" "\$@"
SH
chmod +x "$shim/dotnet"
cd "$root"
PATH="$shim:$PATH" OTELAI_DLL="$shim/otelai-aot.dll" "$root/../shared/anchors/go-relay/compare.sh" "$@"
