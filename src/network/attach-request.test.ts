import { describe, expect, it } from 'vitest';
import { checkAttachRequest } from './attach-request.js';
import { NetworkError } from './errors.js';
import type { AttachRequest } from './network.js';

const ok: AttachRequest = { id: 'task-1', mode: 'bridge', portMappings: [{ containerPort: 80, hostPort: 49200, protocol: 'tcp' }] };

describe('attach requests', () => {
  it('accept a well-formed request', () => {
    expect(() => checkAttachRequest(ok)).not.toThrow();
    expect(() => checkAttachRequest({ id: 'a.b_c-1', mode: 'none', portMappings: [] })).not.toThrow();
    // The same host port may be published once for TCP and once for UDP.
    expect(() =>
      checkAttachRequest({ ...ok, portMappings: [...ok.portMappings, { containerPort: 80, hostPort: 49200, protocol: 'udp' }] }),
    ).not.toThrow();
  });

  it.each([
    [{ ...ok, id: '' }, 'attachment id "" must be 1–200 letters'],
    [{ ...ok, id: '../etc' }, 'attachment id "../etc"'],
    [{ ...ok, id: '-x' }, 'attachment id "-x"'],
    [{ ...ok, id: 'x'.repeat(201) }, 'must be 1–200'],
    [{ ...ok, id: 7 }, 'attachment id 7'],
    [{ ...ok, mode: 'awsvpc' }, 'attachment task-1 has network mode awsvpc, which allows no port mappings'],
    [{ ...ok, mode: 'nat' }, 'mode "nat" of attachment task-1 must be one of bridge, awsvpc, none'],
    [{ ...ok, mode: 'host' }, 'mode "host"'],
    [{ ...ok, portMappings: undefined }, 'portMappings of attachment task-1 must be a list'],
    [{ ...ok, mode: 'none' }, 'attachment task-1 has network mode none, which allows no port mappings'],
    [{ ...ok, portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }] }, 'portMappings[0] of attachment task-1: hostPort 0 must be replaced by a port from the PortAllocator'],
    [{ ...ok, portMappings: [{ containerPort: 0, hostPort: 1, protocol: 'tcp' }] }, 'portMappings[0] of attachment task-1: containerPort 0 must be an integer from 1 to 65535'],
    [{ ...ok, portMappings: [{ containerPort: 80, hostPort: 70000, protocol: 'tcp' }] }, 'hostPort 70000 must be an integer'],
    [{ ...ok, portMappings: [{ containerPort: 80, hostPort: 8.5, protocol: 'tcp' }] }, 'hostPort 8.5 must be an integer'],
    [{ ...ok, portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'sctp' }] }, 'protocol "sctp" must be "tcp" or "udp"'],
    [{ ...ok, portMappings: [null] }, 'portMappings[0] of attachment task-1: containerPort undefined'],
    [{ ...ok, portMappings: [...ok.portMappings, { containerPort: 81, hostPort: 49200, protocol: 'tcp' }] }, 'portMappings[1] of attachment task-1: host port 49200/tcp is mapped twice'],
  ])('refuse %j with an error naming the field', (request, message) => {
    let error: unknown;
    try {
      checkAttachRequest(request as unknown as AttachRequest);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'invalid-request', message: expect.stringContaining(message) });
  });
});
