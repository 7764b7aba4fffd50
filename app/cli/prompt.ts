// Questions at the terminal for the CLI's commands: prompts go to stderr (stdout is for results),
// a hidden answer is not echoed (keys, passphrases), and Ctrl-C at a prompt exits 130. In raw mode
// Ctrl-C reaches readline, not the process: without the handler a prompt would just pause.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

const INTERRUPTED = 130;

/** A line typed at the terminal; `hidden` does not echo it. */
export async function ask(question: string, hidden = false): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  rl.on('SIGINT', () => {
    rl.close();
    process.stderr.write('\n');
    process.exit(INTERRUPTED);
  });
  try {
    process.stderr.write(question);
    muted = hidden;
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    if (hidden) process.stderr.write('\n');
  }
}

/** y or yes (any case) is a yes; anything else, a no. */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test((await ask(question)).trim());
}

/** Everything on stdin, with the line ending a pipe or `echo` adds taken off. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}
