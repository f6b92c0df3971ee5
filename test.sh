#!/usr/bin/env bash
# Runs the whole otelai test suite on a fresh machine: installs what the tests need
# (Debian and npm packages), builds, runs every test project, prints one summary line.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

need_apt=()
# clang compiles the eBPF programs and, with zlib1g-dev, links the Native AOT executable.
command -v clang >/dev/null || need_apt+=(clang llvm)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
[ -f /usr/include/bpf/libbpf.h ] || need_apt+=(libbpf-dev)
command -v bpftool >/dev/null || need_apt+=(bpftool)
command -v prometheus >/dev/null || need_apt+=(prometheus)
# A real scrape target for the prometheus receiver's tests.
command -v prometheus-node-exporter >/dev/null || need_apt+=(prometheus-node-exporter)
# The anomaly connector's alerts go to a real Alertmanager in its tests.
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
/usr/bin/python3 -c 'import grpc' 2>/dev/null || need_apt+=(python3-grpcio python3-protobuf)
# The live page's browser test drives Debian's Chromium (through npm playwright-core); `otelai top` runs in tmux.
command -v chromium >/dev/null || need_apt+=(chromium)
command -v tmux >/dev/null || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# Installing the prometheus package starts its service; stop that one (only if this run installed it: a Prometheus
# already on the machine is the user's). Tests start their own servers on loopback ports they pick.
for service in prometheus prometheus-node-exporter prometheus-alertmanager; do
  if [[ " ${need_apt[*]:-} " == *" $service "* ]] && command -v systemctl >/dev/null; then
    systemctl stop "$service" 2>/dev/null || true
  fi
done

# KubernetesManifestTests render the Kustomize overlays with kubectl (the machine image ships 1.32 with Kustomize 5.5;
# Debian's kubernetes-client package conflicts with it, so it is not installed here).
command -v kubectl >/dev/null || echo "warning: kubectl not found: KubernetesManifestTests will fail (they need kubectl with kustomize)"

if [ -f tests/interop/package.json ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

dotnet build otelai.sln -c Release -nologo -v q -clp:ErrorsOnly

results="$root/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test otelai.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" "$@" || status=$?

# The same CLI and end-to-end tests again against the Native AOT executable (what `otelai` ships as for sidecars):
# tests that start the otelai process run OTELAI_EXECUTABLE instead of `dotnet otelai.dll`.
aot="$root/artifacts/aot"
if dotnet publish engine/Cli/OtelAi.Cli.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$aot" -nologo -v q -clp:ErrorsOnly; then
  OTELAI_EXECUTABLE="$aot/otelai" dotnet test otelai.sln -c Release --no-build -nologo --filter "Runs=otelai" \
    --logger "trx;LogFilePrefix=aot" --results-directory "$results" "$@" || status=$?
else
  echo "Native AOT publish failed"; status=1
fi

/usr/bin/python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None: continue
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
