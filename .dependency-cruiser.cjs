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
      to: { path: ['^src/(api|controllers|server)/', '^src/store/(keys\\.ts|records/)'] },
    },
    {
      name: 'controllers-through-store',
      comment: 'Controllers talk to the API only through the store (write desired state, watch for changes).',
      severity: 'error',
      from: { path: '^src/controllers/' },
      to: { path: '^src/api/' },
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
