#!/usr/bin/env bash
# A lab for trying berth's high availability by hand, on this one machine: a 3-member etcd cluster, three
# `berth server` replicas on it sharing one directory, and two agents (simulated hosts) that know all three
# replicas, then a service of three web tasks. It stays in the foreground and prints what to try
# (kill -9 the leader, an etcd member, …); Ctrl-C stops everything it started. See docs/ha.md.
#
#   bash scripts/ha-lab.sh            (as root; state under /var/lib/berth-lab, removed at the next start)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --ha

LAB=${BERTH_LAB_DIR:-/var/lib/berth-lab}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
rm -rf "$LAB"
mkdir -p "$LAB/shared" "$LAB/logs"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# etcd: three members on loopback. berth's transactions can hold a few hundred operations (a service
# controller pass launching many tasks), hence --max-txn-ops.
peers=""
for i in 1 2 3; do peers+="${peers:+,}etcd$i=http://127.0.0.1:238${i}0"; done
endpoints=""
for i in 1 2 3; do
  etcd --name "etcd$i" --data-dir "$LAB/etcd$i" \
    --listen-client-urls "http://127.0.0.1:237${i}9" --advertise-client-urls "http://127.0.0.1:237${i}9" \
    --listen-peer-urls "http://127.0.0.1:238${i}0" --initial-advertise-peer-urls "http://127.0.0.1:238${i}0" \
    --initial-cluster "$peers" --initial-cluster-state new --initial-cluster-token berth-lab \
    --max-txn-ops 1024 --auto-compaction-mode revision --auto-compaction-retention 10000 \
    > "$LAB/logs/etcd$i.log" 2>&1 &
  pids+=($!)
  echo "etcd$i: pid $!, client http://127.0.0.1:237${i}9"
  endpoints+="${endpoints:+,}http://127.0.0.1:237${i}9"
done
for _ in $(seq 100); do ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

# Three replicas of the control plane on one etcd and one shared directory. The first to start creates the
# root key pair in the shared directory; the others read it.
urls=""
for i in 1 2 3; do
  node dist/cli/main.js server --store etcd --etcd-endpoints "$endpoints" --etcd-max-txn-ops 1024 \
    --shared-dir "$LAB/shared" --data-dir "$LAB/replica$i" --listen "127.0.0.1:740$i" --replica-id "replica$i" \
    --region "$REGION" --instance-lost-after 30s > "$LAB/logs/replica$i.log" 2>&1 &
  pids+=($!)
  echo "replica$i: pid $!, http://127.0.0.1:740$i"
  urls+="${urls:+,}http://127.0.0.1:740$i"
  for _ in $(seq 100); do [ -f "$LAB/shared/credentials" ] && break; sleep 0.1; done
done
healthz() { node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t), () => process.exit(1))' "$1/healthz"; }
for i in 1 2 3; do
  for _ in $(seq 200); do healthz "http://127.0.0.1:740$i" >/dev/null && break; sleep 0.1; done
done

export AWS_SHARED_CREDENTIALS_FILE="$LAB/shared/credentials" AWS_PROFILE=berth AWS_DEFAULT_REGION="$REGION" AWS_PAGER=""

# Two simulated hosts, each an agent with its own data, bridge, ports and zone, knowing every replica.
zones=(_ a b)
for i in 1 2; do
  ECS_BACKEND_HOST="$urls" ECS_CLUSTER=default BERTH_CPU_UNITS=2048 BERTH_MEMORY_MIB=2048 \
    BERTH_AVAILABILITY_ZONE="$REGION${zones[$i]}" \
    BERTH_BRIDGE_NAME="berthlab$i" BERTH_BRIDGE_SUBNET="10.250.$i.0/24" BERTH_METADATA_ADDRESS="169.254.170.2:0" \
    ECS_DYNAMIC_HOST_PORT_RANGE="$((50000 + 1000 * i))-$((50999 + 1000 * i))" \
    node dist/cli/main.js agent --data-dir "$LAB/agent$i" --config /dev/null > "$LAB/logs/agent$i.log" 2>&1 &
  pids+=($!)
  echo "agent$i: pid $!"
done

aws() { /usr/bin/aws --endpoint-url "http://127.0.0.1:7401" "$@"; }
for _ in $(seq 200); do
  [ "$(aws ecs list-container-instances --query 'length(containerInstanceArns)' 2>/dev/null || echo 0)" -ge 2 ] && break
  sleep 0.2
done
echo "== a service of three web tasks, from a busybox image pushed to berth's registry"
repo=$(aws ecr create-repository --repository-name lab/web --query 'repository.repositoryUri' --output text)
bash scripts/build-demo-image.sh "$LAB/demo-image" >/dev/null
aws ecr get-login-password | skopeo login --tls-verify=false --username AWS --password-stdin "${repo%%/*}" >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$LAB/demo-image:latest" "docker://$repo:latest"
sed "s|\"image\": \"[^\"]*\"|\"image\": \"$repo:latest\"|" examples/web.json > "$LAB/web.json"
aws ecs register-task-definition --cli-input-json "file://$LAB/web.json" --query 'taskDefinition.taskDefinitionArn' --output text
aws ecs create-service --service-name web --task-definition web --desired-count 3 --query 'service.serviceArn' --output text
aws ecs wait services-stable --services web && echo "service web is stable"

cat <<MSG

The lab is running (logs in $LAB/logs; Ctrl-C stops it all). In another shell:
  export AWS_SHARED_CREDENTIALS_FILE=$LAB/shared/credentials AWS_PROFILE=berth AWS_DEFAULT_REGION=$REGION
  for p in 7401 7402 7403; do node -e 'fetch(process.argv[1]).then(r => r.text()).then(console.log, console.error)' http://127.0.0.1:\$p/healthz; done   # who leads
  aws ecs describe-services --services web --endpoint-url http://127.0.0.1:7402     # any replica answers
Things to try:
  kill -9 <pid of the leading replica>   another replica leads within seconds; agents move to a live one;
                                         aws ecs stop-task … on a web task: the new leader replaces it
  kill -9 <pid of one etcd member>       berth keeps serving (two of three members are a quorum)
  kill -STOP / -CONT <pid of a replica>  a frozen leader is replaced; when it wakes it finds it is fenced off
MSG
wait -n "${pids[@]}" || true
echo "ha-lab: a process of the lab exited; see $LAB/logs" >&2
wait
