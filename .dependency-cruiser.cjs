/**
 * The boundaries of docs/architecture.md, enforced on every test run (`npm run lint:deps`).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const NODE_IO = '^(node:)?(fs|fs/promises|net|http|https|child_process|dgram|dns|tls|worker_threads|cluster)$';

module.exports = {
  forbidden: [
    {
      name: 'pure-core-no-io',
      comment: 'model/ and scheduler/ are pure: no Node I/O, no store, no HTTP, no agent.',
      severity: 'error',
      from: { path: '^src/(model|scheduler)/' },
      to: { path: ['^src/(store|api|agent|runtime|network|image|registry|server|controllers|cli)/', NODE_IO, '^(fastify|better-sqlite3|ws|undici|pino)$'] },
    },
    {
      name: 'api-not-agent',
      comment:
        'The control plane never reaches into the agent; they talk over the public API and the session protocol. (Tests may put both sides together.)',
      severity: 'error',
      from: { path: '^src/(api|controllers|store|server|logs)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(agent|runtime|network|image)/' },
    },
    {
      name: 'agent-not-log-service',
      comment:
        'The agent ships logs through the CloudWatch Logs API, never by importing the log service (src/logs/). What both sides share (stream naming, PutLogEvents limits) lives in model/.',
      severity: 'error',
      from: { path: '^src/(agent|runtime|network|image)/' },
      to: { path: '^src/logs/' },
    },
    {
      name: 'agent-not-control-plane',
      comment:
        'The agent uses the control plane only through its public API and session protocol. It may use the generic Store for its own state, never the control plane\'s key layout or records.',
      severity: 'error',
      from: { path: '^src/(agent|runtime|network|image)/' },
      to: { path: ['^src/(api|controllers|server|state)/'] },
    },
    {
      name: 'lb-not-control-plane',
      comment:
        "The load balancer data plane (src/lb/, run by `berth lb` on a host) is a peer of the agent: it follows the ELBv2 API, never the control plane's code, records or store layout. Its core imports nothing of berth but the process helpers.",
      severity: 'error',
      from: { path: '^src/lb/' },
      to: { path: '^src/', pathNot: ['^src/lb/', '^src/process/'] },
    },
    {
      name: 'control-plane-not-lb',
      comment:
        "The control plane never reaches into the data plane; `berth lb` talks to it over the ELBv2 API. The agent's Service Connect proxy (src/agent/service-connect/) runs its HAProxy with the data plane's process manager and runtime client: those two files only (they know nothing of ELBv2), never the ELBv2 driver.",
      severity: 'error',
      from: { path: '^src/(api|controllers|store|server|state|logs|agent)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/lb/', pathNot: '^src/lb/haproxy-(process|runtime)\\.ts$' },
    },
    {
      name: 'lb-process-only-for-service-connect',
      comment: "Of the agent, only the Service Connect proxy runs an HAProxy.",
      severity: 'error',
      from: { path: '^src/(api|controllers|store|server|state|logs|agent)/', pathNot: ['\\.test\\.ts$', '^src/agent/service-connect/'] },
      to: { path: '^src/lb/haproxy-(process|runtime)\\.ts$' },
    },
    {
      name: 'controllers-through-store',
      comment: 'Controllers talk to the API only through the store (write desired state, watch for changes).',
      severity: 'error',
      from: { path: '^src/controllers/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'store-is-generic',
      comment:
        'store/ is the generic etcd-shaped key-value store (interface, memory, sqlite, etcd, transact, watch). It knows nothing of ECS or any other part of berth.',
      severity: 'error',
      from: { path: '^src/store/', pathNot: ['\\.test\\.ts$', '\\.conformance\\.ts$'] },
      to: { path: '^src/', pathNot: '^src/store/' },
    },
    {
      name: 'state-below-the-apis',
      comment:
        'state/ holds the records, their keys and the transitions every API, controller and the gateway share. It sits on the store, model/ and the scheduler, never on those who use it.',
      severity: 'error',
      from: { path: '^src/state/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(api|controllers|server|cli|registry|logs|agent|runtime|network|image)/' },
    },
    {
      name: 'api-siblings-apart',
      comment:
        "One API never reaches into another's internals: ECS, ECR and the agent gateway meet only in state/ (and the gateway takes the ECS environment, env.ts).",
      severity: 'error',
      from: { path: '^src/api/(ecs|ecr|acs)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/api/(ecs|ecr|acs)/', pathNot: ['^src/api/$1/', '^src/api/ecs/env\\.ts$'] },
    },
    {
      name: 'scheduler-public-face',
      comment: 'Outside the scheduler only scheduler/index.ts is imported (tests may use its testing/ helpers).',
      severity: 'error',
      from: { pathNot: '^src/scheduler/' },
      to: { path: '^src/scheduler/', pathNot: ['^src/scheduler/index\\.ts$', '^src/scheduler/testing/'] },
    },
    {
      name: 'no-test-code-in-product',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.test\\.ts$', '\\.conformance\\.ts$', '/testing/'] },
      to: { path: ['\\.test\\.ts$', '\\.conformance\\.ts$', '/testing/', '^vitest'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
