// Patterns built from text that came from elsewhere (an identity, a topic, a log excerpt a
// scenario names): every character stands for itself.

/** `text` with every character that means something in a regular expression escaped. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
