import { describe, expect, it } from 'vitest';
import { CqlSyntaxError } from '../errors.js';
import { instance, tasksOf } from '../testing/instances.js';
import { cqlView } from './instance-view.js';
import { compileCql } from './compile.js';

const day = (iso: string) => Date.parse(iso) / 1000;

// A small fleet the documented examples select from.
const small1a = instance('small-1a', {
  ec2InstanceId: 'i-abcd1234',
  agentVersion: '1.14.4',
  registeredAt: day('2018-02-12T23:59:59Z'),
  attributes: { 'ecs.instance-type': 't2.small', 'ecs.availability-zone': 'us-east-1a', 'ecs.os-type': 'linux', stack: 'prod', size: '8' },
  tasks: tasksOf('service:production', 1),
});
const gpu1d = instance('gpu-1d', {
  ec2InstanceId: 'i-wxyx7890',
  agentVersion: '1.14.5',
  registeredAt: day('2018-02-13T00:00:00Z'),
  attributes: { 'ecs.instance-type': 'g2.2xlarge', 'ecs.availability-zone': 'us-east-1d', 'ecs.os-type': 'linux', size: '10' },
  tasks: [...tasksOf('database', 1), ...tasksOf('family:batch', 2)],
});
const gpu1b = instance('gpu-1b', {
  ec2InstanceId: 'i-00001111',
  agentVersion: 'v1.100.0',
  agentConnected: false,
  registeredAt: day('2018-06-18T22:28:28Z'),
  attributes: { 'ecs.instance-type': 'g2.8xlarge', 'ecs.availability-zone': 'us-east-1b', 'ecs.os-type': 'windows', marker: undefined, size: 'large' },
});
const fleet = [small1a, gpu1d, gpu1b];

/** The ids of the fleet's instances the expression selects. */
const select = (expression: string) => fleet.filter((s) => compileCql(expression).matches(cqlView(s))).map((s) => s.id);

describe('Cluster Query Language evaluation', () => {
  it.each([
    // The ECS developer guide's examples.
    ['attribute:ecs.instance-type == t2.small', ['small-1a']],
    ['attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', ['small-1a', 'gpu-1b']],
    ['attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d', ['gpu-1b']],
    ['task:group == service:production', ['small-1a']],
    ['not(task:group == database)', ['small-1a', 'gpu-1b']],
    ['runningTasksCount == 1', ['small-1a']],
    ['agentVersion < 1.14.5', ['small-1a']],
    ['registeredAt < 2018-02-13', ['small-1a']],
    ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", ['small-1a', 'gpu-1d']],
  ])('%s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    // == and != on text; != is the complement of ==, so it holds where the attribute is absent.
    ['attribute:stack == prod', ['small-1a']],
    ['attribute:stack != prod', ['gpu-1d', 'gpu-1b']],
    ['attribute:stack equals prod', ['small-1a']],
    ['attribute:stack not_equals prod', ['gpu-1d', 'gpu-1b']],
    // exists and !exists: presence is enough, even without a value.
    ['attribute:stack exists', ['small-1a']],
    ['attribute:marker exists', ['gpu-1b']],
    ['attribute:marker !exists', ['small-1a', 'gpu-1d']],
    ['attribute:marker not_exists', ['small-1a', 'gpu-1d']],
    // in and !in.
    ['attribute:ecs.os-type in [linux]', ['small-1a', 'gpu-1d']],
    ['attribute:ecs.os-type !in [linux]', ['gpu-1b']],
    ['attribute:ecs.os-type not_in [linux, windows]', []],
    // =~ and !~ match the whole value, as Java's Pattern.matches does.
    ['attribute:ecs.instance-type =~ g2\\..*', ['gpu-1d', 'gpu-1b']],
    ['attribute:ecs.instance-type matches 2xlarge', []],
    ['attribute:ecs.instance-type =~ .*2xlarge', ['gpu-1d']],
    ['attribute:ecs.instance-type !~ g2.*', ['small-1a']],
    ['attribute:ecs.instance-type not_matches g2.*', ['small-1a']],
    ["attribute:ecs.instance-type =~ 't2\\.(small|medium)'", ['small-1a']],
    // Ordering on attributes: a number compares with values that are numbers (not 'large'); text by code unit.
    ['attribute:size > 9', ['gpu-1d']],
    ['attribute:size greater_than 9', ['gpu-1d']],
    ['attribute:size >= 8', ['small-1a', 'gpu-1d']],
    ['attribute:size < 10', ['small-1a']],
    ['attribute:size less_than_equal 10', ['small-1a', 'gpu-1d']],
    ['attribute:size >= l', ['gpu-1b']],
    ['attribute:stack > a', ['small-1a']],
  ])('attribute: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    ['agentConnected == true', ['small-1a', 'gpu-1d']],
    ['agentConnected == false', ['gpu-1b']],
    ['agentConnected != true', ['gpu-1b']],
    ['agentConnected in [true, false]', ['small-1a', 'gpu-1d', 'gpu-1b']],
    ['agentConnected !in [true]', ['gpu-1b']],
    ['agentConnected =~ f.*', ['gpu-1b']],
    ['agentConnected !~ f.*', ['small-1a', 'gpu-1d']],
  ])('agentConnected: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    // Versions compare part by part as numbers: 1.100.0 is newer than 1.14.5 (string order says otherwise).
    ['agentVersion == 1.14.5', ['gpu-1d']],
    ['agentVersion != 1.14.5', ['small-1a', 'gpu-1b']],
    ['agentVersion > 1.14.5', ['gpu-1b']],
    ['agentVersion >= 1.14.5', ['gpu-1d', 'gpu-1b']],
    ['agentVersion <= 1.14.5', ['small-1a', 'gpu-1d']],
    ['agentVersion < 1.15', ['small-1a', 'gpu-1d']],
    ['agentVersion == 1.100', ['gpu-1b']],
  ])('agentVersion: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    ['ec2InstanceId == i-abcd1234', ['small-1a']],
    ['ec2InstanceId != i-abcd1234', ['gpu-1d', 'gpu-1b']],
    ['ec2InstanceId !in [i-abcd1234, i-wxyx7890]', ['gpu-1b']],
    ['ec2InstanceId =~ i-0+1+', ['gpu-1b']],
    ['ec2InstanceId !~ i-0+1+', ['small-1a', 'gpu-1d']],
  ])('ec2InstanceId: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    // A date is its whole UTC day; a timestamp its second.
    ['registeredAt == 2018-02-13', ['gpu-1d']],
    ['registeredAt != 2018-02-13', ['small-1a', 'gpu-1b']],
    ['registeredAt <= 2018-02-13', ['small-1a', 'gpu-1d']],
    ['registeredAt > 2018-02-13', ['gpu-1b']],
    ['registeredAt >= 2018-02-13', ['gpu-1d', 'gpu-1b']],
    ['registeredAt == 2018-06-18T22:28:28Z', ['gpu-1b']],
    ['registeredAt == 2018-06-18T22:28:28+00:00', ['gpu-1b']],
    ['registeredAt == 2018-06-18T22:28:28', ['gpu-1b']],
    ['registeredAt == 2018-06-19T00:28:28+02:00', ['gpu-1b']],
    ['registeredAt < 2018-06-18T22:28:28Z', ['small-1a', 'gpu-1d']],
    ['registeredAt greater_than_equal 2018-02-12T23:59:59Z', ['small-1a', 'gpu-1d', 'gpu-1b']],
  ])('registeredAt: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    ['runningTasksCount == 0', ['gpu-1b']],
    ['runningTasksCount != 0', ['small-1a', 'gpu-1d']],
    ['runningTasksCount > 1', ['gpu-1d']],
    ['runningTasksCount >= 1', ['small-1a', 'gpu-1d']],
    ['runningTasksCount < 3', ['small-1a', 'gpu-1b']],
    ['runningTasksCount <= 3', ['small-1a', 'gpu-1d', 'gpu-1b']],
  ])('runningTasksCount: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    // task:group holds when any task on the instance is of the group; the negations are complements.
    ['task:group == family:batch', ['gpu-1d']],
    ['task:group != family:batch', ['small-1a', 'gpu-1b']],
    ['task:group in [database, service:production]', ['small-1a', 'gpu-1d']],
    ['task:group !in [database, service:production]', ['gpu-1b']],
    ['task:group =~ family:.*', ['gpu-1d']],
    ['task:group !~ family:.*', ['small-1a', 'gpu-1b']],
  ])('task:group: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it.each([
    ['attribute:ecs.os-type == linux and not attribute:stack exists', ['gpu-1d']],
    ['attribute:ecs.os-type == windows or attribute:stack == prod', ['small-1a', 'gpu-1b']],
    ['attribute:ecs.os-type == windows || attribute:stack == prod && runningTasksCount > 5', ['gpu-1b']],
    ['(attribute:ecs.os-type == windows || attribute:stack == prod) && runningTasksCount < 5', ['small-1a', 'gpu-1b']],
    ['!(agentConnected == true) || !(ec2InstanceId == i-abcd1234)', ['gpu-1d', 'gpu-1b']],
  ])('compound: %s selects %j', (expression, ids) => {
    expect(select(expression)).toEqual(ids);
  });

  it('says which expressions depend on the tasks an instance runs', () => {
    expect(compileCql('attribute:a == b and agentVersion > 1.0').dependsOnTasks).toBe(false);
    expect(compileCql('attribute:a == b or runningTasksCount < 3').dependsOnTasks).toBe(true);
    expect(compileCql('not(task:group == database)').dependsOnTasks).toBe(true);
  });

  it.each([
    // [expression, offset, words in the message]
    ['agentVersion > 1.x', 15, ['a version']],
    ['agentVersion in [1.0]', 13, ['does not take the operator in']],
    ['agentVersion =~ 1.*', 13, ['does not take the operator =~']],
    ['registeredAt < 2018-02-30', 15, ['a date']],
    ['registeredAt < yesterday', 15, ['a date']],
    ['registeredAt < 2018-02-13T25:00:00Z', 15, ['a date']],
    ['runningTasksCount == -1', 21, ['a whole number']],
    ['runningTasksCount =~ 1', 18, ['does not take the operator =~']],
    ['ec2InstanceId > i-1', 14, ['does not take the operator >', '== != in !in =~ !~']],
    ['task:group exists', 11, ['does not take the operator exists']],
    ['agentConnected == yes', 18, ['true or false']],
    ['agentConnected in [true, maybe]', 25, ['true or false']],
    ["attribute:x =~ '(a'", 15, ['not a valid regular expression', 'Unterminated group']],
    ['attribute:ok == 1 and attribute:x =~ [', 37, ['a value']],
  ])('refuses %s at offset %i', (expression, offset, words) => {
    let error: unknown;
    try {
      compileCql(expression);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CqlSyntaxError);
    const e = error as CqlSyntaxError;
    expect(e.offset).toBe(offset);
    for (const w of words) expect(e.message).toContain(w);
  });
});
