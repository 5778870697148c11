// Scenario tests: each test/quorum/testdata/*.txt is a script of commands, each followed by
// `----` and the exact output expected (Ready contents, messages, logs). Run with REWRITE=1 to
// regenerate the expected outputs after an intended change, then review the diff.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { InteractionEnv, parseCommand } from './sim/interaction.js';

// Tests run from dist/test/quorum/, the scripts stay in the source tree.
const testdataDir = fileURLToPath(new URL('../../../test/quorum/testdata/', import.meta.url));

interface Block {
  comments: string[];
  command: string;
  line: number;
  expected: string;
}

function parseScript(source: string): Block[] {
  const lines = source.split('\n');
  const blocks: Block[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '' || line.startsWith('#')) {
      if (line.startsWith('#')) {
        comments.push(line);
      }
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') {
      throw new Error(`line ${i + 2}: expected ---- after command "${line}"`);
    }
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j] !== '') {
      expected.push(lines[j]);
      j++;
    }
    blocks.push({ comments, command: line, line: i + 1, expected: expected.join('\n') });
    comments = [];
    i = j;
  }
  return blocks;
}

function render(blocks: Block[], outputs: string[]): string {
  const parts = blocks.map((block, k) => {
    const head = block.comments.length > 0 ? `${block.comments.join('\n')}\n` : '';
    return `${head}${block.command}\n----\n${outputs[k]}\n`;
  });
  return `${parts.join('\n')}`;
}

const files = readdirSync(testdataDir).filter((name) => name.endsWith('.txt')).sort();

t.ok(files.length >= 8, 'scenario scripts are present');

for (const file of files) {
  t.test(file, async (tt) => {
    const path = `${testdataDir}${file}`;
    const blocks = parseScript(readFileSync(path, 'utf8'));
    const env = new InteractionEnv();
    const outputs: string[] = [];
    for (const block of blocks) {
      let output: string;
      try {
        output = env.run(parseCommand(block.command));
      } catch (error) {
        output = `error: ${error instanceof Error ? error.message : String(error)}`;
      }
      outputs.push(output);
      if (process.env.REWRITE !== '1') {
        tt.equal(output, block.expected, `${file}:${block.line} ${block.command}`);
      }
    }
    if (process.env.REWRITE === '1') {
      writeFileSync(path, render(blocks, outputs));
      tt.pass(`rewrote ${file}`);
    }
  });
}
