import { describe, expect, it } from 'vitest';
import { ClientsByCredentials } from './clients-by-credentials.js';

const creds = (key: string) => ({ accessKeyId: key, secretAccessKey: 's' });

describe('ClientsByCredentials', () => {
  it('one client per access key, the least recently used destroyed past the bound; a failed make is retried', async () => {
    const destroyed: string[] = [];
    let fail = true;
    const made: string[] = [];
    const clients = new ClientsByCredentials(async (c) => {
      made.push(c.accessKeyId);
      if (c.accessKeyId === 'X' && fail) throw new Error('no');
      return { key: c.accessKeyId, destroy: () => destroyed.push(c.accessKeyId) };
    }, 2);
    const a = await clients.get(creds('A'));
    expect(await clients.get(creds('A'))).toBe(a);
    await clients.get(creds('B'));
    await clients.get(creds('A')); // A is now the most recently used
    await clients.get(creds('C'));
    await Promise.resolve();
    expect(destroyed).toEqual(['B']);
    expect(clients.size).toBe(2);

    await expect(clients.get(creds('X'))).rejects.toThrow('no');
    fail = false;
    expect((await clients.get(creds('X'))).key).toBe('X');
    expect(made.filter((k) => k === 'X')).toHaveLength(2);

    clients.destroy();
    await new Promise((r) => setImmediate(r));
    // A went to make room for X (even though X then failed); C and X with the rest.
    expect(destroyed).toEqual(['B', 'A', 'C', 'X']);
    expect(clients.size).toBe(0);
  });
});
