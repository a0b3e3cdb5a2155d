import type { Delivery } from "../../src/engine/channel.js";

/** How a message looks in a terminal: addressed, with choices as numbered lines. */
export function renderDelivery(delivery: Delivery, id: string): string {
  const lines = [`[${id} → ${delivery.chatId}]`, delivery.text];
  delivery.choices.forEach((choice, index) => lines.push(`  ${index + 1}. ${choice.label}`));
  for (const file of delivery.files) lines.push(`  [${file.kind}] ${file.name ?? file.ref}`);
  return lines.join("\n");
}
