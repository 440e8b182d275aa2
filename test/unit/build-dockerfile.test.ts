// The Dockerfile parser, the word expansion and .dockerignore matching of the classic builder.
import { describe, expect, it } from 'vitest';
import { parseDockerfile, splitStages, unknownInstruction } from '../../daemon/build/dockerfile';
import { isIgnored, parseIgnoreFile } from '../../daemon/build/ignore';
import { processWord, processWords } from '../../daemon/build/lex';
import { BuildArgs } from '../../daemon/build/args';
import { applyInstruction } from '../../daemon/images/changes';
import type { ImageContainerConfig } from '../../daemon/images/config';

describe('Dockerfile parser', () => {
  it('joins continuations, drops comment lines (also inside a continuation), keeps a mid-line #', () => {
    const f = parseDockerfile('# top comment\nFROM busybox\nRUN echo a \\\n  # inside\n    && echo b # not a comment\n\nenv A=1\n');
    expect(f.instructions.map((i) => [i.name, i.line, i.original])).toEqual([
      ['from', 2, 'FROM busybox'],
      ['run', 3, 'RUN echo a     && echo b # not a comment'],
      ['env', 7, 'env A=1'],
    ]);
    expect(f.instructions[1].args).toEqual(['echo a     && echo b # not a comment']);
  });

  it('reads the exec form as JSON and anything else as the shell form', () => {
    const f = parseDockerfile('FROM x\nCMD ["a", "b c"]\nCMD [not json\nCOPY ["a b", "/d/"]\nCOPY a b /c/\n');
    const [, exec, shell, copyJson, copy] = f.instructions;
    expect([exec.json, exec.args]).toEqual([true, ['a', 'b c']]);
    expect([shell.json, shell.args]).toEqual([false, ['[not json']]);
    expect(copyJson.args).toEqual(['a b', '/d/']);
    expect(copy.args).toEqual(['a', 'b', '/c/']);
  });

  it('takes the escape directive, flags before the arguments, and the stages with their names', () => {
    const f = parseDockerfile('# escape=`\nFROM busybox AS Build\nRUN echo a `\n  b\nFROM scratch\nCOPY --from=build --chown=1:2 /a /b\n');
    expect(f.escape).toBe('`');
    expect(f.instructions[1].original).toBe('RUN echo a   b');
    const { stages } = splitStages(f);
    expect(stages.map((s) => [s.base, s.name, s.commands.length])).toEqual([
      ['busybox', 'build', 1],
      ['scratch', '', 1],
    ]);
    expect(stages[1].commands[0].flags).toEqual(['--from=build', '--chown=1:2']);
  });

  it('gives Docker\'s errors', () => {
    expect(() => parseDockerfile('# just a comment\n')).toThrow('file with no instructions');
    expect(() => splitStages(parseDockerfile('FROM a\nFOO bar\n'))).toThrow('dockerfile parse error on line 2: unknown instruction: FOO');
    expect(() => splitStages(parseDockerfile('RUN x\n'))).toThrow('no build stage in current context');
    expect(() => splitStages(parseDockerfile('ARG A=1\nFROM a\nCOPY x\n'))).toThrow('dockerfile parse error on line 3: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
    expect(() => splitStages(parseDockerfile('FROM a b\n'))).toThrow('FROM requires either one or three arguments');
    expect(unknownInstruction('COPPY')).toBe('unknown instruction: COPPY (did you mean COPY?)');
    expect(unknownInstruction('runn')).toBe('unknown instruction: runn (did you mean run?)');
  });

  it('keeps ARGs before the first FROM as meta args', () => {
    const { metaArgs, stages } = splitStages(parseDockerfile('ARG V=1\nARG W\nFROM busybox:${V}\n'));
    expect(metaArgs.map((a) => a.args)).toEqual([['V=1'], ['W']]);
    expect(stages[0].base).toBe('busybox:${V}');
  });
});

describe('word expansion', () => {
  const env = ['A=x', 'EMPTY=', 'SP=a b'];
  it('expands $VAR, ${VAR}, defaults and alternatives; quotes and escapes as the shell', () => {
    expect(processWord('$A-${A}-${NOPE:-d}-${EMPTY:-e}-${EMPTY-f}-${A:+alt}-${NOPE:+alt}', env)).toBe('x-x-d-e--alt-');
    expect(processWord("'$A' \"$A\" \\$A", env)).toBe('$A x $A');
    expect(processWords('$SP "$SP"', env, true)).toEqual(['a', 'b', 'a b']);
    expect(processWord('a`$A', env, '`')).toBe('a$A');
  });
});

describe('.dockerignore', () => {
  const patterns = parseIgnoreFile('# comment\nsecret.txt\n**/*.log\n/build\n!build/keep\ndocs/*.md\n');
  it('excludes matches and what is under them, with exceptions', () => {
    expect(isIgnored('secret.txt', patterns)).toBe(true);
    expect(isIgnored('a/b/c.log', patterns)).toBe(true);
    expect(isIgnored('x.log', patterns)).toBe(true);
    expect(isIgnored('build/out/x', patterns)).toBe(true);
    expect(isIgnored('build/keep', patterns)).toBe(false);
    expect(isIgnored('docs/a.md', patterns)).toBe(true);
    expect(isIgnored('docs/sub/a.md', patterns)).toBe(false);
    expect(isIgnored('src/secret.txt', patterns)).toBe(false);
  });
});

describe('build args', () => {
  it('gives declared args their --build-arg or default value, ENV winning, and warns about unused ones', () => {
    const a = new BuildArgs({ A: 'given', B: null, UNUSED: 'u', HTTP_PROXY: 'p' });
    a.addMeta('M', 'meta');
    a.add('A', 'default');
    a.add('C', 'c-default');
    a.add('M', null);
    expect(a.filterAllowed(['C=from-env'])).toEqual(['A=given', 'HTTP_PROXY=p', 'M=meta']);
    expect(a.inCacheKey('HTTP_PROXY')).toBe(false);
    expect(a.unusedWarning()).toBe('[Warning] One or more build-args [B UNUSED] were not consumed\n');
  });
});

describe('history comments of the commit instructions', () => {
  const apply = (name: string, rest: string, c: ImageContainerConfig = {}): string => applyInstruction(c, name, rest, { env: ['V=1'], cmdSet: false }).comment;
  it('formats them as Docker writes them (Go %q and %v)', () => {
    expect(apply('CMD', '["sh", "-c", "echo hi"]')).toBe('CMD ["sh" "-c" "echo hi"]');
    expect(apply('CMD', 'echo $V')).toBe('CMD ["/bin/sh" "-c" "echo $V"]');
    expect(apply('ENV', 'A=$V B="x y"')).toBe('ENV A=1 B=x y');
    expect(apply('VOLUME', '/a /b')).toBe('VOLUME [/a /b]');
    expect(apply('EXPOSE', '80 53/udp')).toBe('EXPOSE 53/udp 80');
    expect(apply('HEALTHCHECK', '--interval=5s --timeout=1m30s --retries=3 CMD wget -q x')).toBe('HEALTHCHECK &{["CMD-SHELL" "wget -q x"] "5s" "1m30s" "0s" \'\\x03\'}');
    const c: ImageContainerConfig = { WorkingDir: '/app' };
    expect(apply('WORKDIR', 'sub', c)).toBe('WORKDIR /app/sub');
  });
  it('expands with the file\'s escape token', () => {
    const c: ImageContainerConfig = {};
    applyInstruction(c, 'ENV', 'P=C:\\dir Q=`$V', { env: ['V=1'], cmdSet: false, escape: '`' });
    expect(c.Env).toEqual(['P=C:\\dir', 'Q=$V']);
    const d: ImageContainerConfig = {};
    applyInstruction(d, 'ENV', 'P=C:\\dir', { env: [], cmdSet: false });
    expect(d.Env).toEqual(['P=C:dir']);
  });
  it('drops an inherited CMD on ENTRYPOINT unless the stage set one', () => {
    const c: ImageContainerConfig = { Cmd: ['sh'] };
    applyInstruction(c, 'ENTRYPOINT', '["top"]', { env: [], cmdSet: false });
    expect(c.Cmd).toBeNull();
    const d: ImageContainerConfig = { Cmd: ['-b'] };
    applyInstruction(d, 'ENTRYPOINT', '["top"]', { env: [], cmdSet: true });
    expect(d.Cmd).toEqual(['-b']);
  });
});
