import { RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { useRef, useState } from 'preact/hooks';
import { describeError, ecsClient } from './api.js';
import { fieldOfError, lineOfParseError, lineOfPath, pathLines } from './json-fields.js';
import { useSession } from './session.js';

interface Problem {
  readonly message: string;
  readonly field?: string | undefined;
  readonly line?: number | undefined;
}

/**
 * A task definition as JSON (RegisterTaskDefinition's input), registered as a new revision. The API's refusal is
 * shown at the field it is about: the line is marked in the gutter and selected, and the message names the field.
 */
export function TaskDefinitionEditor({ initial, onRegistered }: { initial: string; onRegistered: (family: string, revision: number) => void }) {
  const { session } = useSession();
  const [text, setText] = useState(initial);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const lineCount = text.split('\n').length;

  const show = (p: Problem) => {
    setProblem(p);
    const el = area.current;
    if (!el || p.line === undefined) return;
    // Select the line the field is on, so the caret (and a screen reader) is at the field.
    const lines = el.value.split('\n');
    const start = lines.slice(0, p.line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[p.line - 1]?.length ?? 0));
    const lineHeight = 20;
    el.scrollTop = Math.max(0, (p.line - 5) * lineHeight);
  };

  const register = async (e: Event) => {
    e.preventDefault();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      show({ message: `This is not valid JSON: ${message}`, line: lineOfParseError(text, message) });
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      const out = await ecsClient(session).send(new RegisterTaskDefinitionCommand(doc as RegisterTaskDefinitionCommandInput));
      onRegistered(out.taskDefinition?.family ?? '', out.taskDefinition?.revision ?? 0);
    } catch (error) {
      const { name, message } = describeError(error);
      const field = fieldOfError(message, doc);
      show({ message: `${name}: ${message}`, field, line: field ? lineOfPath(pathLines(text), field) : undefined });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void register(e)} class="td-editor">
      <label for="td-json">Task definition JSON (RegisterTaskDefinition's input)</label>
      <div class="editor" data-invalid={problem ? 'true' : 'false'}>
        <div class="gutter" aria-hidden="true">
          <div class="gutter-inner" style={{ transform: `translateY(${-scrollTop}px)` }}>
            {Array.from({ length: lineCount }, (_, i) => (
              <div key={i} class={problem?.line === i + 1 ? 'bad' : undefined} data-line={i + 1}>
                {problem?.line === i + 1 ? '⚠ ' : ''}
                {i + 1}
              </div>
            ))}
          </div>
        </div>
        <textarea
          id="td-json"
          ref={area}
          value={text}
          spellcheck={false}
          autoComplete="off"
          rows={24}
          aria-invalid={problem ? 'true' : 'false'}
          aria-describedby={problem ? 'td-error' : undefined}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onScroll={(e) => setScrollTop((e.currentTarget as HTMLTextAreaElement).scrollTop)}
        />
      </div>
      {problem ? (
        <p id="td-error" class="error-note field-error" role="alert" data-field={problem.field ?? ''} data-line={problem.line ?? ''}>
          {problem.line !== undefined ? <>Line {problem.line}</> : null}
          {problem.field ? (
            <>
              {problem.line !== undefined ? ', ' : ''}
              <code>{problem.field}</code>
            </>
          ) : null}
          {problem.line !== undefined || problem.field ? ': ' : ''}
          {problem.message}
        </p>
      ) : null}
      <p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Registering…' : 'Register new revision'}
        </button>
      </p>
    </form>
  );
}

/** Members of a described task definition that RegisterTaskDefinition does not take (berth fills them in). */
const READ_ONLY = ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'deregisteredAt', 'deleteRequestedAt'];

/** A described task definition as an input to register its next revision. */
export function asRegisterInput(definition: Record<string, unknown>): string {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(definition)) if (!READ_ONLY.includes(k) && v !== undefined) input[k] = v;
  return JSON.stringify(input, null, 2);
}
