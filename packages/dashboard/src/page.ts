/**
 * The HTML shell. It holds nothing stored: the app fetches everything as JSON
 * and renders it as text (or sanitized markdown). Asset and API paths are
 * relative, so the shell works under any base path.
 */
const shell = (body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton</title>
<link rel="stylesheet" href="assets/app.css">
</head>
<body>
${body}
</body>
</html>
`;

export const page = {
  app: shell('<div id="app"></div>\n<script type="module" src="assets/app.js"></script>'),
  missing: shell(
    '<main style="font-family:sans-serif;padding:2rem"><h1>Baton dashboard</h1><p>The front end is not built. Run <code>pnpm build</code> (or <code>pnpm -F @baton/dashboard build:ui</code>) and reload.</p></main>',
  ),
};
