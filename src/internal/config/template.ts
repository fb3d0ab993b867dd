import type { CompiledTemplate, SourcePos } from './types.js';

/** Where a template came from; when given to compileTemplate, errors name it (`FILE:LINE:COL: key: ...`). */
export interface KeyOrigin {
  readonly pos: SourcePos;
  readonly keyPath: string;
}

/**
 * The template subset of config.md 4.3: literal text plus `{{.Field}}` placeholders (optional spaces, Go
 * trim markers `{{- ` / ` -}}`). Everything else Go's text/template would accept (functions, pipelines,
 * if/range, comments) is refused when the configuration is loaded instead of failing at push time.
 */
export const ROLE_FILE_TEMPLATE_FIELDS = [
  'Account',
  'DesiredUID',
  'Experiment',
  'Role',
  'Name',
  'UserPrincipal',
  'KeytabPath',
  'ServiceCreddVaultTokenPathRoot',
  'VaultServer',
] as const;
export const PRINCIPAL_TEMPLATE_FIELDS = ['Account'] as const;
export const DEFAULT_ROLE_FILE_TEMPLATE = '/tmp/default_role_{{.Experiment}}_{{.DesiredUID}}';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    /** what the operator wrote, for the `(got ...)` part */
    readonly got: string,
    /** offset of the offending action in the source */
    readonly offset: number,
  ) {
    super(message);
  }
}

type Part =
  { readonly kind: 'text'; text: string } | { readonly kind: 'field'; readonly field: string };

const PLACEHOLDER =
  /^\{\{(-[ \t\r\n])?[ \t\r\n]*\.([A-Za-z][A-Za-z0-9]*)[ \t\r\n]*([ \t\r\n]-)?\}\}$/;

export function compileTemplate(
  source: string,
  allowedFields: readonly string[],
  origin?: KeyOrigin,
): CompiledTemplate {
  if (origin === undefined) return compileUnnamed(source, allowedFields);
  try {
    return compileUnnamed(source, allowedFields);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const { file, line, col } = origin.pos;
    throw new TemplateError(
      `${file}:${line}:${col}: ${origin.keyPath}: ${error.message}`,
      error.got,
      error.offset,
    );
  }
}

function compileUnnamed(source: string, allowedFields: readonly string[]): CompiledTemplate {
  const parts: Part[] = [];
  let position = 0;
  let trimNextText = false;
  while (position < source.length) {
    const open = source.indexOf('{{', position);
    const textEnd = open === -1 ? source.length : open;
    let text = source.slice(position, textEnd);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    parts.push({ kind: 'text', text });
    if (open === -1) break;
    const close = source.indexOf('}}', open + 2);
    if (close === -1) {
      throw new TemplateError(
        'unclosed template action: "{{" without a matching "}}"',
        source.slice(open),
        open,
      );
    }
    const action = source.slice(open, close + 2);
    const match = PLACEHOLDER.exec(action);
    if (match === null) {
      throw new TemplateError(
        `unsupported template action ${JSON.stringify(action)}; only {{.Field}} placeholders are allowed (${allowedFields.join(', ')})`,
        action,
        open,
      );
    }
    const [, trimLeft, field = '', trimRight] = match;
    if (!allowedFields.includes(field)) {
      throw new TemplateError(
        `unknown template field ".${field}" in ${JSON.stringify(action)}; allowed fields: ${allowedFields.join(', ')}`,
        action,
        open,
      );
    }
    if (trimLeft !== undefined) {
      const previous = parts[parts.length - 1];
      if (previous?.kind === 'text') previous.text = previous.text.replace(/[ \t\r\n]+$/, '');
    }
    parts.push({ kind: 'field', field });
    trimNextText = trimRight !== undefined;
    position = close + 2;
  }
  const fields = parts.flatMap((part) => (part.kind === 'field' ? [part.field] : []));
  return {
    source,
    fields,
    render(ctx) {
      return parts
        .map((part) => (part.kind === 'text' ? part.text : String(ctx[part.field] ?? '')))
        .join('');
    },
  };
}
