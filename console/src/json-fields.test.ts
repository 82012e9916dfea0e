import { describe, expect, it } from 'vitest';
import { fieldOfError, lineOfParseError, lineOfPath, pathLines } from './json-fields.js';

const TEXT = `{
  "family": "web",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "busybox",
      "memory": 2,
      "portMappings": [{ "containerPort": 80 }, { "containerPort": 70000 }]
    },
    {
      "name": "side\\"car",
      "command": ["sleep", "1"]
    }
  ],
  "cpu": "256"
}`;

describe('pathLines', () => {
  const lines = pathLines(TEXT);
  it('gives the line each member and element starts on', () => {
    expect(lines.get('family')).toBe(2);
    expect(lines.get('containerDefinitions')).toBe(3);
    expect(lines.get('containerDefinitions[0]')).toBe(4);
    expect(lines.get('containerDefinitions[0].memory')).toBe(7);
    expect(lines.get('containerDefinitions[0].portMappings[1].containerPort')).toBe(8);
    expect(lines.get('containerDefinitions[1]')).toBe(10);
    expect(lines.get('containerDefinitions[1].command[1]')).toBe(12);
    expect(lines.get('cpu')).toBe(15);
  });
  it('falls back to the nearest parent for a member that is not there', () => {
    expect(lineOfPath(lines, 'containerDefinitions[1].image')).toBe(10);
    expect(lineOfPath(lines, 'nothing')).toBeUndefined();
  });
  it('reads what it can of broken JSON', () => {
    expect(pathLines('{\n  "family": "x",\n  "cpu": ').get('cpu')).toBe(3);
  });
});

describe('fieldOfError', () => {
  const doc = JSON.parse(TEXT) as unknown;
  it('takes the path a shape error names', () => {
    expect(fieldOfError("Invalid type for parameter 'containerDefinitions[0].cpu': expected integer, got string.", doc)).toBe('containerDefinitions[0].cpu');
    expect(fieldOfError("Missing required parameter 'containerDefinitions[1].image'.", doc)).toBe('containerDefinitions[1].image');
  });
  it('finds the container a container rule names and the setting it quotes', () => {
    expect(fieldOfError("Invalid setting for container 'app'. The 'memory' value must be at least 6 MiB.", doc)).toBe('containerDefinitions[0].memory');
    expect(fieldOfError("Invalid setting for container 'app'. Each port mapping needs a 'containerPort'.", doc)).toBe('containerDefinitions[0]');
    expect(fieldOfError("Invalid setting for container 'ghost'. The 'memory' value must be at least 6 MiB.", doc)).toBe('containerDefinitions');
  });
  it("finds the first container missing the member of ECS's null checks", () => {
    expect(fieldOfError('Container.image should not be null or empty.', doc)).toBe('containerDefinitions[1].image');
  });
  it('falls back to a quoted top-level member, else nothing', () => {
    expect(fieldOfError("The 'family' is taken.", doc)).toBe('family');
    expect(fieldOfError('Something else went wrong.', doc)).toBeUndefined();
  });
});

describe('lineOfParseError', () => {
  it('reads the line or position a JSON.parse message gives', () => {
    expect(lineOfParseError('{\n "a": 1,\n}', 'Expected double-quoted property name in JSON at position 11 (line 3 column 1)')).toBe(3);
    expect(lineOfParseError('{\n "a": 1,\n}', 'Unexpected token } in JSON at position 11')).toBe(3);
    expect(lineOfParseError('x', 'nonsense')).toBeUndefined();
  });
});
