import DOMPurify from 'dompurify';
import { marked } from 'marked';

// Links in stored markdown open in a new tab without access to this page.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/**
 * Markdown rendered by marked (GitHub-flavoured), then sanitized by DOMPurify:
 * raw HTML in the text survives only as inert markup (no script, no event
 * handler attribute, no javascript: URL, no style attribute that could lay a
 * fake page over the real one). No hand-written escaping.
 */
function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false }) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
  });
}

export function Markdown({ text }: { text: string }) {
  return <div class="md" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}
