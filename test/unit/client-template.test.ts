// The Go text/template subset behind --format: what docker users write in practice.
import { describe, expect, it } from 'vitest';
import { HEADER_OVERRIDES, STRICT, TYPE_NAME, TemplateError, goJSON, goPrint, parseTemplate } from '../../client/format/template';

const inspectData = {
  Id: 'abc',
  Name: '/web',
  State: { Status: 'running', Pid: 4242, Running: true, Health: null },
  Config: { Env: ['A=1', 'B=<2>'], Labels: { z: '1', a: '2' }, Cmd: ['sh', '-c', 'echo hi'] },
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' }, mynet: { IPAddress: '10.0.0.2' } } },
  Mounts: [],
};

const run = (tmpl: string, data: unknown = inspectData): string => parseTemplate(tmpl).execute(data);

describe('Go templates', () => {
  it('evaluates field chains', () => {
    expect(run('{{.State.Pid}}')).toBe('4242');
    expect(run('{{ .Name }}:{{.State.Running}}')).toBe('/web:true');
    expect(run('{{.NetworkSettings.Networks.bridge.IPAddress}}')).toBe('172.17.0.2');
  });

  it("prints slices and maps the way Go's fmt does", () => {
    expect(run('{{.Config.Env}}')).toBe('[A=1 B=<2>]');
    expect(run('{{.Config.Labels}}')).toBe('map[a:2 z:1]');
    expect(run('{{.State.Health}}')).toBe('<nil>');
    expect(run('{{.Mounts}}')).toBe('[]');
    expect(goPrint(1.5)).toBe('1.5');
  });

  it('supports json, join, index, len, printf, upper/lower/title, pad, truncate, split', () => {
    expect(run('{{json .Config.Cmd}}')).toBe('["sh","-c","echo hi"]');
    expect(run('{{json .Config.Env}}')).toBe('["A=1","B=<2>"]');
    expect(run('{{join .Config.Cmd " "}}')).toBe('sh -c echo hi');
    expect(run('{{index .Config.Labels "z"}}')).toBe('1');
    expect(run('{{index .Config.Cmd 1}}')).toBe('-c');
    expect(run('{{len .Config.Env}}')).toBe('2');
    expect(run('{{printf "%s has pid %d" .Name .State.Pid}}')).toBe('/web has pid 4242');
    expect(run('{{upper .State.Status}} {{title "hello world"}} {{lower "ABC"}}')).toBe('RUNNING Hello World abc');
    expect(run('[{{pad .State.Status 1 2}}][{{pad "" 1 2}}]')).toBe('[ running  ][]');
    expect(run('{{truncate .Id 2}}')).toBe('ab');
    expect(run('{{split "a,b" ","}}')).toBe('[a b]');
  });

  it('supports range over lists and maps (sorted), with variables and else', () => {
    expect(run('{{range .Config.Env}}{{.}};{{end}}')).toBe('A=1;B=<2>;');
    expect(run('{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}')).toBe('bridge=172.17.0.2 mynet=10.0.0.2 ');
    expect(run('{{range $i, $e := .Config.Cmd}}{{$i}}:{{$e}} {{end}}')).toBe('0:sh 1:-c 2:echo hi ');
    expect(run('{{range .Mounts}}x{{else}}none{{end}}')).toBe('none');
    expect(run('{{$n := .Name}}{{range .Config.Env}}{{$n}} {{end}}')).toBe('/web /web ');
  });

  it('supports if / else if / else / with and comparison functions', () => {
    expect(run('{{if .State.Running}}up{{else}}down{{end}}')).toBe('up');
    expect(run('{{if eq .State.Status "exited"}}E{{else if eq .State.Status "running"}}R{{else}}?{{end}}')).toBe('R');
    expect(run('{{if and .State.Running (gt .State.Pid 0)}}ok{{end}}')).toBe('ok');
    expect(run('{{if not .State.Health}}no health{{end}}')).toBe('no health');
    expect(run('{{with .State}}{{.Status}}{{end}}')).toBe('running');
    expect(run('{{if ne .Name "/x"}}y{{end}}')).toBe('y');
  });

  it('supports pipelines, parentheses and trim markers', () => {
    expect(run('{{.Name | printf "%q"}}')).toBe('"/web"');
    expect(run('{{(index .NetworkSettings.Networks "mynet").IPAddress}}')).toBe('10.0.0.2');
    expect(run('a  {{- .Name -}}  b')).toBe('a/webb');
    expect(run('{{/* a comment */}}x')).toBe('x');
    expect(run('{{"quoted \\"}}\\" text"}}')).toBe('quoted "}}" text');
  });

  it('prints <no value> for a missing map key, or fails with missingkey=error', () => {
    expect(run('{{.Nope}}')).toBe('<no value>');
    expect(() => parseTemplate('{{.Nope}}', { missingKeyError: true }).execute(inspectData)).toThrow(
      'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',
    );
    expect(() => run('{{.State.Health.Status}}')).toThrow('template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
  });

  it('rejects unknown fields on struct-like contexts and calls their methods', () => {
    const row = { ID: () => 'abc', Label: (k: string) => (k === 'a' ? '1' : ''), [STRICT]: true, [TYPE_NAME]: '*formatter.ContainerContext' };
    expect(parseTemplate('{{.ID}}/{{.Label "a"}}').execute(row)).toBe('abc/1');
    expect(() => parseTemplate('{{.ID}}\t{{.Foo}}').execute(row)).toThrow(
      'template: :1:10: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
    );
  });

  it('reports parse errors', () => {
    expect(() => parseTemplate('{{.Foo')).toThrow(TemplateError);
    expect(() => parseTemplate('{{foo .Names}}')).toThrow('function "foo" not defined');
    expect(() => parseTemplate('{{if .A}}x')).toThrow('unexpected EOF');
  });

  it('leaves header names unchanged with the header functions', () => {
    const t = parseTemplate('{{upper .Names}}\t{{json .State}}\t{{truncate .ID 2}}');
    expect(t.execute({ Names: 'NAMES', State: 'STATE', ID: 'CONTAINER ID' }, HEADER_OVERRIDES)).toBe('NAMES\tSTATE\tCONTAINER ID');
  });

  it("writes JSON like the docker CLI's json function (no HTML escaping)", () => {
    expect(goJSON({ a: '<b>&', n: null })).toBe('{"a":"<b>&","n":null}');
    expect(goJSON('\u2028')).toBe('"\\u2028"');
  });
});
