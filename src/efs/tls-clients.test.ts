import { describe, expect, it } from 'vitest';
import { keys } from '../state/keys.js';
import { efsKeys } from '../state/efs-keys.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { agentCertificateNameFor, agentCertificateNameForInstance, allowedTlsClients } from './tls-clients.js';

const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/default/t1';

async function lab(instanceStatus: 'ACTIVE' | 'INACTIVE') {
  const store = new MemoryStore();
  await transact(store, async (tx) => {
    for (const id of ['h1', 'h2']) {
      tx.putJson(efsKeys.storageHost(id), { id, address: '10.0.0.1', brickDir: '/b', availabilityZone: 'a', registeredAt: 0, lastSeen: 0, volumes: [] });
    }
    const instance = (id: string, status: string) => ({
      cluster: 'default', id, ec2InstanceId: `i-${id}`, reserved: {},
      instance: { containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${id}`, status },
    });
    tx.putJson(keys.containerInstance('default', 'ci1'), instance('ci1', instanceStatus));
    tx.putJson(keys.containerInstance('default', 'ci2'), instance('ci2', 'ACTIVE'));
    tx.putJson(keys.task('default', 't1'), { cluster: 'default', id: 't1', instanceId: 'ci1', task: { taskArn: TASK }, needs: {} });
    tx.putJson(keys.task('default', 't2'), { cluster: 'default', id: 't2', task: { taskArn: `${TASK.slice(0, -2)}t2` }, needs: {} });
  });
  return store;
}

describe('who the bricks accept over TLS', () => {
  it('every storage host and every registered agent, by certificate name', async () => {
    expect(await allowedTlsClients(await lab('ACTIVE'))).toEqual(['berth-agent-ci1', 'berth-agent-ci2', 'berth-storage-h1', 'berth-storage-h2']);
    expect(await agentCertificateNameFor(await lab('ACTIVE'), TASK)).toBe('berth-agent-ci1');
  });

  it('a deregistered container instance leaves the list and its agent gets no certificate', async () => {
    const store = await lab('INACTIVE');
    expect(await allowedTlsClients(store)).toEqual(['berth-agent-ci2', 'berth-storage-h1', 'berth-storage-h2']);
    await expect(agentCertificateNameFor(store, TASK)).rejects.toThrow(/container instance ci1 is deregistered/);
    await expect(agentCertificateNameFor(store, `${TASK.slice(0, -2)}t2`)).rejects.toThrow(/has none/);
    await expect(agentCertificateNameFor(store, undefined)).rejects.toMatchObject({ type: 'AccessDeniedException' });
    // IssueAgentCertificate (an agent's renewal between mounts) names the instance itself, with the same refusal.
    const ci = (id: string) => `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${id}`;
    expect(await agentCertificateNameForInstance(store, ci('ci2'))).toBe('berth-agent-ci2');
    await expect(agentCertificateNameForInstance(store, ci('ci1'))).rejects.toThrow(/container instance ci1 is deregistered/);
    await expect(agentCertificateNameForInstance(store, ci('nope'))).rejects.toMatchObject({ type: 'AccessDeniedException' });
    await expect(agentCertificateNameForInstance(store, TASK)).rejects.toThrow(/not a container instance ARN/);
  });
});
