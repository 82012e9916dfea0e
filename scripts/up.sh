#!/usr/bin/env bash
# Installs what is missing, builds, and runs a single-node berth cluster in the foreground (`berth up`:
# the control plane on 127.0.0.1:7400, an agent and a load balancer node, state in /var/lib/berth), then a
# working example through the AWS CLI: an image built from busybox and pushed to berth's own registry, a task
# definition, a task serving a web page on a dynamic host port, and a service of two such tasks behind an
# Application Load Balancer on 127.0.0.1:8080. Ctrl-C stops berth (containers keep running and are re-adopted
# on the next start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --demo

LISTEN=${BERTH_LISTEN:-127.0.0.1:7400}
DATA=${BERTH_DATA_DIR:-/var/lib/berth}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
LB_PORT=${BERTH_DEMO_LB_PORT:-8080}
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

echo "== example: a service of two tasks behind an Application Load Balancer"
lb=$(aws elbv2 create-load-balancer --name demo --subnets subnet-a subnet-b --query 'LoadBalancers[0].LoadBalancerArn' --output text)
tg=$(aws elbv2 create-target-group --name demo-web --protocol HTTP --port 80 --target-type instance \
  --health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
aws elbv2 modify-target-group-attributes --target-group-arn "$tg" \
  --attributes Key=deregistration_delay.timeout_seconds,Value=5 --query 'length(Attributes)' >/dev/null
if [ "$(aws elbv2 describe-listeners --load-balancer-arn "$lb" --query "length(Listeners[?Port==\`$LB_PORT\`])")" = 0 ]; then
  aws elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTP --port "$LB_PORT" \
    --default-actions "Type=forward,TargetGroupArn=$tg" --query 'Listeners[0].ListenerArn' --output text
fi
if [ "$(aws ecs describe-services --services web --query 'services[0].status' --output text)" != ACTIVE ]; then
  aws ecs create-service --service-name web --task-definition web --desired-count 2 --health-check-grace-period-seconds 30 \
    --load-balancers "targetGroupArn=$tg,containerName=web,containerPort=8080" --query 'service.serviceArn' --output text
fi
for _ in $(seq 600); do
  [ "$(aws elbv2 describe-target-health --target-group-arn "$tg" --query "length(TargetHealthDescriptions[?TargetHealth.State=='healthy'])")" -ge 2 ] && break
  kill -0 $berth 2>/dev/null || { echo "up.sh: berth stopped" >&2; exit 1; }
  sleep 0.2
done
aws elbv2 describe-target-health --target-group-arn "$tg" --output table \
  --query 'TargetHealthDescriptions[].{Target: Target.Id, Port: Target.Port, State: TargetHealth.State}'
echo "the load balancer answers on http://127.0.0.1:$LB_PORT/:"
node -e 'fetch(process.argv[1]).then(r => r.text()).then(t => process.stdout.write(t))' "http://127.0.0.1:$LB_PORT/"

cat <<MSG

berth is running at $URL (Ctrl-C stops it). The example service answers at http://127.0.0.1:$LB_PORT/
Use berth with the AWS CLI v2:
  export AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials AWS_PROFILE=berth AWS_DEFAULT_REGION=$REGION
  aws ecs describe-tasks --tasks $task --endpoint-url $URL
  aws elbv2 describe-target-health --target-group-arn $tg --endpoint-url $URL
  node dist/cli/main.js logs --endpoint $URL $task
MSG
wait $berth
