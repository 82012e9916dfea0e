import { describe, expect, it } from 'vitest';
import { checkParameterName, isValidLabel, parameterArn, parameterNameCandidates, parseSelector } from './parameter-names.js';

describe('parameter names', () => {
  it('accepts plain names and paths of up to 15 levels', () => {
    for (const ok of ['db', 'db.url_1-x', '/a', '/a/b/c', `/${Array(15).fill('l').join('/')}`]) expect(() => checkParameterName(ok), ok).not.toThrow();
  });

  it('refuses what Parameter Store refuses, with its error', () => {
    expect(() => checkParameterName(`/${Array(16).fill('l').join('/')}`)).toThrow(/maximum of 15 levels/);
    expect(() => checkParameterName('a/b')).toThrow('Parameter name must be a fully qualified name.');
    for (const bad of ['aws-x', 'SSM', '/aws/x', '/Ssm/x', 'sp ace', '/a//b', '/a/', 'a:b', '']) expect(() => checkParameterName(bad), bad).toThrow(/can't be prefixed|sub-paths/);
  });

  it('makes ARNs and reads them back', () => {
    const scope = { region: 'eu-west-1', accountId: '123456789012' };
    expect(parameterArn(scope, '/a/b')).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/a/b');
    expect(parameterArn(scope, 'a')).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/a');
    expect(parameterNameCandidates('arn:aws:ssm:eu-west-1:123456789012:parameter/a/b')).toEqual(['/a/b']);
    expect(parameterNameCandidates('arn:aws:ssm:eu-west-1:123456789012:parameter/a')).toEqual(['a', '/a']);
    expect(parameterNameCandidates('/a')).toEqual(['/a']);
  });

  it('splits version and label selectors off names and ARNs', () => {
    expect(parseSelector('/a/b')).toEqual({ name: '/a/b' });
    expect(parseSelector('/a/b:3')).toEqual({ name: '/a/b', version: 3, selector: ':3' });
    expect(parseSelector('db:prod')).toEqual({ name: 'db', label: 'prod', selector: ':prod' });
    expect(parseSelector('arn:aws:ssm:r:123456789012:parameter/a')).toEqual({ name: 'arn:aws:ssm:r:123456789012:parameter/a' });
    expect(parseSelector('arn:aws:ssm:r:123456789012:parameter/a:2')).toEqual({ name: 'arn:aws:ssm:r:123456789012:parameter/a', version: 2, selector: ':2' });
  });

  it('knows a valid label', () => {
    expect(['prod', 'Release_1.2-x'].every(isValidLabel)).toBe(true);
    expect(['1st', 'awsx', 'SSM-y', 'a b', '', 'x'.repeat(101)].some(isValidLabel)).toBe(false);
  });
});
