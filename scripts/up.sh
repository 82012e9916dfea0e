#!/usr/bin/env bash
# Installs what is missing, builds, and runs a single-node berth cluster in the foreground (`berth up`:
# the control plane on 127.0.0.1:7400 and an agent, state in /var/lib/berth), then a working example
# through the AWS CLI: an image built from busybox and pushed to berth's own registry, a task definition,
# and a task serving a web page on a dynamic host port. Ctrl-C stops berth (containers keep running and
# are re-adopted on the next start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --demo

LISTEN=${BERTH_LISTEN:-127.0.0.1:7400}
DATA=${BERTH_DATA_DIR:-/var/lib/berth}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
URL="http://$LISTEN"

node dist/cli/main.js up --listen "$LISTEN" --data-dir "$DATA" --region "$REGION" &
berth=$!
trap 'kill $berth 2>/dev/null; wait $berth 2>/dev/null' EXIT INT TERM

for _ in $(seq 300); do
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$URL/healthz" && [ -f "$DATA/credentials" ] && break
  kill -0 $berth 2>/dev/null || { echo "up.sh: berth failed to start" >&2; exit 1; }
  sleep 0.1
done

export AWS_SHARED_CREDENTIALS_FILE="$DATA/credentials" AWS_PROFILE=berth AWS_DEFAULT_REGION="$REGION" AWS_PAGER=""
aws() { /usr/bin/aws --endpoint-url "$URL" "$@"; }

echo "== example: build an image, push it to berth's registry, run it as a task"
repo=$(aws ecr describe-repositories --repository-names demo/web --query 'repositories[0].repositoryUri' --output text 2>/dev/null ||
  aws ecr create-repository --repository-name demo/web --query 'repository.repositoryUri' --output text)
bash scripts/build-demo-image.sh "$DATA/demo-image"
aws ecr get-login-password | skopeo login --tls-verify=false --username AWS --password-stdin "${repo%%/*}" >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$DATA/demo-image:latest" "docker://$repo:latest"

sed "s|\"image\": \"[^\"]*\"|\"image\": \"$repo:latest\"|" examples/web.json > "$DATA/web-task-definition.json"
aws ecs register-task-definition --cli-input-json "file://$DATA/web-task-definition.json" \
  --query 'taskDefinition.taskDefinitionArn' --output text
for _ in $(seq 100); do
  [ "$(aws ecs list-container-instances --query 'length(containerInstanceArns)')" -ge 1 ] && break
  sleep 0.1
done
task=$(aws ecs run-task --task-definition web --query 'tasks[0].taskArn' --output text)
aws ecs wait tasks-running --tasks "$task"
port=$(aws ecs describe-tasks --tasks "$task" --query 'tasks[0].containers[0].networkBindings[0].hostPort' --output text)
echo "task $task is RUNNING; its web server answers on host port $port:"
node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => process.stdout.write(t))' "http://127.0.0.1:$port/"

cat <<MSG

berth is running at $URL (Ctrl-C stops it). Use it with the AWS CLI v2:
  export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_PROFILE=berth AWS_DEFAULT_REGION=$REGION
  aws ecs describe-tasks --tasks $task --endpoint-url $URL
  node dist/cli/main.js logs --endpoint $URL $task
MSG
wait $berth
