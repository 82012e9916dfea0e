#!/usr/bin/env bash
# Installs what is missing, builds, and runs berth in the foreground with a working example:
# the control plane on 127.0.0.1:7400, state in /var/lib/berth, a `default` cluster and an example
# task definition registered through the AWS CLI. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test

LISTEN=${BERTH_LISTEN:-127.0.0.1:7400}
DATA=${BERTH_DATA_DIR:-/var/lib/berth}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
URL="http://$LISTEN"

node dist/cli/main.js server --listen "$LISTEN" --data-dir "$DATA" --region "$REGION" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM

for _ in $(seq 100); do
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$URL/healthz" && break
  kill -0 $server 2>/dev/null || { echo "up.sh: berth server failed to start" >&2; exit 1; }
  sleep 0.1
done

export AWS_SHARED_CREDENTIALS_FILE="$DATA/credentials" AWS_PROFILE=berth AWS_DEFAULT_REGION="$REGION" AWS_PAGER=""
ecs() { /usr/bin/aws ecs --endpoint-url "$URL" "$@"; }

echo "== example: aws ecs create-cluster, register-task-definition, describe-task-definition"
ecs create-cluster --cluster-name default --query 'cluster.[clusterArn,status]' --output text
ecs register-task-definition --cli-input-json file://examples/web.json \
  --query 'taskDefinition.[taskDefinitionArn,status]' --output text
ecs describe-task-definition --task-definition web --output json

cat <<MSG

berth is running at $URL (Ctrl-C stops it). Use it with the AWS CLI:
  export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_PROFILE=berth AWS_DEFAULT_REGION=$REGION
  aws ecs list-task-definitions --endpoint-url $URL
MSG
wait $server
