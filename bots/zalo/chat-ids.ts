/**
 * One channel name, two APIs. Our ChannelName union has one "zalo", and both the Bot Platform
 * and the Official Account speak as "zalo" to the engine; the chat id says which API a reply must
 * take. OA user ids carry the prefix "oa:", Bot Platform chat ids go bare.
 *
 * Why a prefix and not a second channel name: the engine, the outbox and people's accounts all
 * key on (channel, chatId), so a prefixed chat id routes a reply, a reminder or an alert through
 * the right API with no change outside bots/zalo. Why this way round: Bot Platform ids are hex
 * strings and OA ids digit strings, so neither can contain ":" and the prefix is unambiguous;
 * and the Bot Platform (the one officials use for reminders) keeps the plain ids an admin types
 * in ADMIN_ACCOUNTS. The same prefix goes on the OA sender id, so an OA user and a Bot Platform
 * user are two channel accounts even if their ids ever looked alike (they are scoped per OA and
 * per bot anyway, and a person joins them with /lienket).
 */

export const OA_PREFIX = "oa:";

export type ZaloAddress = { api: "bot"; chatId: string } | { api: "oa"; userId: string };

/** The chat id (and sender id) under which an OA user is known to the engine. */
export function oaChatId(userId: string): string {
  return `${OA_PREFIX}${userId}`;
}

/** Which API reaches this chat, and its id there. */
export function addressOf(chatId: string): ZaloAddress {
  return chatId.startsWith(OA_PREFIX)
    ? { api: "oa", userId: chatId.slice(OA_PREFIX.length) }
    : { api: "bot", chatId };
}
