// JSON schemas for form bodies: every field a string of bounded length. A field sent
// twice (an array) or too long fails validation with a 400 before any handler runs.
const DEFAULT_MAX = 1000;

export function formSchema(fields: Record<string, number | undefined>, optional: readonly string[] = []) {
  const properties: Record<string, { type: 'string'; maxLength: number }> = {
    _csrf: { type: 'string', maxLength: 200 },
  };
  for (const [name, max] of Object.entries(fields))
    properties[name] = { type: 'string', maxLength: max ?? DEFAULT_MAX };
  return {
    body: {
      type: 'object',
      properties,
      required: Object.keys(fields).filter((name) => !optional.includes(name)),
    },
  } as const;
}

export const idParams = {
  params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
} as const;

export function bodyOf<T>(body: unknown): T {
  return body as T;
}

/** The page a listing asks for: a whole number from 1, else the first page. */
export function pageNumberOf(text: string | undefined): number {
  const requested = Number.parseInt(text ?? '1', 10);
  return Number.isFinite(requested) && requested > 0 ? requested : 1;
}
