/** @jsxImportSource hono/jsx */
/** The page shell: header, navigation, one small stylesheet (served by the same binary). */
import type { Child, FC } from "hono/jsx";

export const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#cfd8e3;text-decoration:none}header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;font-size:16px}
main{padding:20px 24px}h1{font-size:20px;margin:0 0 14px}h2{font-size:15px;margin:22px 0 8px}
section.card{background:#fff;border:1px solid #e1e5ea;border-radius:8px;padding:14px 16px;margin-bottom:14px;overflow-x:auto}
.scroll{overflow-x:auto}.nowrap{white-space:nowrap}pre{background:#f6f7f9;padding:10px;border-radius:6px;overflow-x:auto;font-size:12px}
.method{display:inline-block;min-width:44px;font-weight:700;color:#4b7bd6}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-weight:600;color:#56606f;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.ok{color:#18794e}.bad{color:#c4321e;font-weight:600}.warn{color:#a35200}.muted{color:#7a8594}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
.chart .bar{fill:#4b7bd6}.chart .bar.over{fill:#d9534f}.chart .axis,.chart .edge{stroke:#9aa5b1}.chart .threshold{stroke:#c4321e;stroke-dasharray:4 3}
.chart .tick{font-size:10px;fill:#56606f}.chart .node{font-size:11px;fill:#1d2430}.chart .source{fill:#e8f1ff;stroke:#4b7bd6}.chart .view{fill:#fff4e0;stroke:#d08a1e}.chart .service{fill:#e9f7ef;stroke:#2f9e5f}
form.inline{display:flex;gap:8px;flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px;color:#56606f;gap:3px}
input,select,button{font:inherit;padding:5px 8px;border:1px solid #c9d0d8;border-radius:5px;background:#fff}button{background:#1d2430;color:#fff;border-color:#1d2430;cursor:pointer}
`;

export const Layout: FC<{ title: string; children?: Child }> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Larder`}</title>
      <link rel="stylesheet" href="/ui/style.css" />
      <link rel="icon" href="data:," />
    </head>
    <body>
      <header>
        <a class="brand" href="/">
          Larder
        </a>
        <a href="/">Catalog</a>
        <a href="/ui/lookup">Lookup</a>
        <a href="/ui/runs">Runs</a>
        <a href="/ui/api">API</a>
        <a href="/metrics">Metrics</a>
      </header>
      <main>{children}</main>
    </body>
  </html>
);

export const when = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");
