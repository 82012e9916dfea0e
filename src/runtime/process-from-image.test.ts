import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidContainerSpecError } from './errors.js';
import { DEFAULT_PATH, argsFromImage, envFromImage, processFromImage, resolveUser } from './process-from-image.js';
import { readUserDatabase } from './rootfs-user-files.js';

const db = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n# comment\nbroken line\nnobody:x:65534:65534::/:/bin/false\n',
  group: 'root:x:0:\napp:x:1001:\nwheel:x:10:app,other\nstaff:x:50:app\nnogroup:x:65534:\n',
};

describe('argsFromImage', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['serve', '--port', '80'] };
  it('uses the image ENTRYPOINT and CMD by default', () => {
    expect(argsFromImage(image, {})).toEqual(['/entry', 'serve', '--port', '80']);
  });
  it('command replaces CMD only', () => {
    expect(argsFromImage(image, { command: ['migrate'] })).toEqual(['/entry', 'migrate']);
  });
  it('entryPoint replaces ENTRYPOINT and drops the image CMD, as Docker does', () => {
    expect(argsFromImage(image, { entryPoint: ['sh', '-c'] })).toEqual(['sh', '-c']);
    expect(argsFromImage(image, { entryPoint: ['sh', '-c'], command: ['echo hi'] })).toEqual(['sh', '-c', 'echo hi']);
  });
  it('an empty entryPoint or command counts as unset', () => {
    expect(argsFromImage(image, { entryPoint: [], command: [] })).toEqual(['/entry', 'serve', '--port', '80']);
  });
  it('fails clearly when there is nothing to run', () => {
    expect(() => argsFromImage({}, {})).toThrow(/no command: the image has neither ENTRYPOINT nor CMD/);
  });
});

describe('envFromImage', () => {
  it('starts from Docker PATH and HOSTNAME, then image Env, then environment, replacing by name', () => {
    const env = envFromImage(
      { Env: ['PATH=/opt/bin:/bin', 'LANG=C', 'MODE=image'] },
      { environment: [{ name: 'MODE', value: 'task' }, { name: 'EXTRA', value: 'a=b' }], hostname: 'web-1' },
    );
    expect(env).toEqual(['PATH=/opt/bin:/bin', 'HOSTNAME=web-1', 'LANG=C', 'MODE=task', 'EXTRA=a=b']);
  });
  it('keeps the default PATH when the image sets none', () => {
    expect(envFromImage({}, {})).toEqual([`PATH=${DEFAULT_PATH}`]);
  });
  it('rejects a variable name with "="', () => {
    expect(() => envFromImage({}, { environment: [{ name: 'A=B', value: 'x' }] })).toThrow(/environment\[0\]\.name/);
  });
});

describe('resolveUser', () => {
  it('defaults to root', () => {
    expect(resolveUser(undefined, db)).toEqual({ uid: 0, gid: 0 });
    expect(resolveUser('', {})).toEqual({ uid: 0, gid: 0 });
  });
  it('resolves a name through passwd, with the groups that list it', () => {
    expect(resolveUser('app', db)).toEqual({ uid: 1000, gid: 1001, additionalGids: [10, 50] });
  });
  it('takes a uid not in passwd as is, with gid 0', () => {
    expect(resolveUser('4242', db)).toEqual({ uid: 4242, gid: 0 });
    expect(resolveUser('1000', db)).toEqual({ uid: 1000, gid: 1001, additionalGids: [10, 50] });
  });
  it('uid:gid and name:group set the primary group and no supplementary ones', () => {
    expect(resolveUser('4242:4343', db)).toEqual({ uid: 4242, gid: 4343 });
    expect(resolveUser('app:wheel', db)).toEqual({ uid: 1000, gid: 10 });
    expect(resolveUser('1000:nogroup', db)).toEqual({ uid: 1000, gid: 65534 });
  });
  it('fails naming an unknown user or group', () => {
    expect(() => resolveUser('ghost', db)).toThrow(new InvalidContainerSpecError('unable to find user ghost: no matching entries in passwd file'));
    expect(() => resolveUser('app:ghosts', db)).toThrow(/unable to find group ghosts/);
    expect(() => resolveUser('app', {})).toThrow(/unable to find user app/);
    expect(() => resolveUser('a:b:c', db)).toThrow(/must be name, uid/);
    expect(() => resolveUser('app:', db)).toThrow(/must be name, uid/);
  });
});

describe('processFromImage', () => {
  it('merges everything and defaults cwd to /', () => {
    expect(processFromImage({ Cmd: ['sh'], User: 'app' }, {}, db)).toEqual({
      args: ['sh'],
      env: [`PATH=${DEFAULT_PATH}`],
      cwd: '/',
      uid: 1000,
      gid: 1001,
      additionalGids: [10, 50],
    });
  });
  it('workingDirectory and user override the image', () => {
    const p = processFromImage({ Cmd: ['sh'], User: 'app', WorkingDir: '/srv' }, { workingDirectory: '/tmp', user: 'nobody' }, db);
    expect(p).toMatchObject({ cwd: '/tmp', uid: 65534, gid: 65534 });
    expect(processFromImage({ Cmd: ['sh'], WorkingDir: '/srv' }, {}, db).cwd).toBe('/srv');
  });
  it('rejects a relative working directory', () => {
    expect(() => processFromImage({ Cmd: ['sh'] }, { workingDirectory: 'srv' }, db)).toThrow(/working directory "srv" must be an absolute path/);
  });
});

describe('readUserDatabase', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-users-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the rootfs files', async () => {
    const root = join(dir, 'plain');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), db.passwd);
    expect(await readUserDatabase(root)).toEqual({ passwd: db.passwd });
  });
  it('does not follow a symlink out of the rootfs', async () => {
    const root = join(dir, 'evil');
    mkdirSync(join(root, 'etc'), { recursive: true });
    symlinkSync('/etc/passwd', join(root, 'etc/passwd'));
    const root2 = join(dir, 'evil2');
    mkdirSync(root2);
    symlinkSync('/etc', join(root2, 'etc'));
    expect(await readUserDatabase(root)).toEqual({});
    expect(await readUserDatabase(root2)).toEqual({});
  });
});
