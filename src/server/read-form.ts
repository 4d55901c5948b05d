/** A small HTML form's fields (the sign-in page's), within the body limit; anything unreadable is a 400. */
import { BadRequestError } from "../errors.ts";
import { readBodyText } from "./read-json.ts";

export async function readForm(req: Request, maxBytes: number): Promise<Record<string, string>> {
  const type = req.headers.get("content-type") ?? "";
  const text = await readBodyText(req, maxBytes);
  const fields = (entries: Iterable<[string, unknown]>) => Object.fromEntries([...entries].filter((e): e is [string, string] => typeof e[1] === "string"));
  if (/^application\/x-www-form-urlencoded\b/i.test(type)) return fields(new URLSearchParams(text));
  if (/^multipart\/form-data\b/i.test(type)) {
    try {
      return fields(await new Response(text, { headers: { "content-type": type } }).formData());
    } catch (err) {
      throw new BadRequestError(`the form is malformed: ${(err as Error).message}`, "malformed_form");
    }
  }
  throw new BadRequestError(`send the form as application/x-www-form-urlencoded or multipart/form-data (got "${type.slice(0, 60)}")`, "unsupported_media_type");
}
