// Light stand-ins for `berth agent`: container instances registered through the API, each with a WebSocket
// session that signs its upgrade as the agent does and acknowledges every payload and heartbeat, so that
// placement sees the instances connected, without starting containers. A session whose replica goes away
// reconnects to the next replica in its list, as the agent does with several endpoints.
import { HttpRequest } from '@smithy/protocol-http';
import WebSocket from 'ws';
import { call, signerFor } from './ecs-signed.mjs';

/**
 * Register `count` instances in `cluster` through the first replica (huge CPU and memory, so placement never
 * runs out) and open one session each, instance i on replica `i % n` first. `urls` is the replicas' URLs, or
 * a function returning them now (a replica restarted on another port). Resolves once every session is open;
 * `pushedTasks()` counts tasks received in payloads; `close()` ends them without reconnecting.
 */
export async function registerInstances({ urls: given, keys, cluster, count, tag = cluster }) {
  const current = typeof given === 'function' ? given : () => given;
  const urls = current();
  const arns = [];
  for (let i = 0; i < count; i++) {
    const out = await call(urls[0], keys, 'RegisterContainerInstance', {
      cluster,
      instanceIdentityDocument: JSON.stringify({ instanceId: `i-${tag}-${i}` }),
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 100_000_000 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 100_000_000 },
      ],
    });
    arns.push(out.containerInstance.containerInstanceArn);
  }
  const clusterArn = arns[0].replace(/container-instance\/([^/]+)\/.*$/, 'cluster/$1');
  const signer = signerFor(keys);
  let pushed = 0;
  let closing = false;
  const sockets = new Set();

  const connect = async (instanceArn, url) => {
    const wsUrl = new URL('/ws', url);
    wsUrl.protocol = 'ws:';
    const query = { clusterArn, containerInstanceArn: instanceArn, seqNum: '0', protocolVersion: '2', agentVersion: 'bench' };
    for (const [k, v] of Object.entries(query)) wsUrl.searchParams.set(k, v);
    const req = await signer.sign(
      new HttpRequest({ method: 'GET', protocol: 'http:', hostname: wsUrl.hostname, port: Number(wsUrl.port), path: wsUrl.pathname, query, headers: { host: wsUrl.host } }),
    );
    const { host: _host, ...headers } = req.headers;
    const ws = new WebSocket(wsUrl, { headers });
    sockets.add(ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'PayloadMessage') {
        pushed += frame.message.tasks.length;
        ws.send(JSON.stringify({ type: 'AckRequest', message: { cluster: clusterArn, containerInstance: instanceArn, messageId: frame.message.messageId } }));
      } else if (frame.type === 'HeartbeatMessage') {
        ws.send(JSON.stringify({ type: 'HeartbeatAckRequest', message: { messageId: frame.message.messageId } }));
      }
    });
    // The agent's pings are its heartbeats: without them the gateway drops a session after 25 s of silence.
    const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), 5_000);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', (e) => (ws.readyState === WebSocket.OPEN ? undefined : reject(e)));
      ws.on('error', () => {}); // a reset by a killed replica also closes; 'close' handles it
      ws.once('close', () => {
        clearInterval(ping);
        sockets.delete(ws);
      });
    });
  };

  /** Keep instance `i` connected: on close, the next replica in the list (tries until one answers). */
  const keep = async (instanceArn, i) => {
    for (let attempt = 0; ; attempt++) {
      if (closing) return;
      const now = current();
      const url = now[(i + attempt) % now.length];
      try {
        const ws = await connect(instanceArn, url);
        return ws.once('close', () => {
          if (!closing) void keep(instanceArn, i + attempt + 1);
        });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(arns.map((arn, i) => keep(arn, i)));

  return {
    arns,
    clusterArn,
    pushedTasks: () => pushed,
    close() {
      closing = true;
      for (const ws of sockets) ws.terminate();
    },
  };
}

/** Until DescribeContainerInstances through `url` shows every one of `arns` connected (deadline 30 s). */
export async function waitConnected(url, keys, cluster, arns) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { containerInstances } = await call(url, keys, 'DescribeContainerInstances', { cluster, containerInstances: arns });
    const connected = containerInstances.filter((c) => c.agentConnected).length;
    if (connected === arns.length) return;
    if (Date.now() > deadline) throw new Error(`only ${connected} of ${arns.length} instances in ${cluster} connected after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
