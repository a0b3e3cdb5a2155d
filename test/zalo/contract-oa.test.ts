import { channelContract } from "../channels/contract.js";
import { zaloOaHarness } from "./harness.js";

// The Official Account alone: signed events in, answers through the OA API with a token the
// channel refreshed at the OAuth endpoint, both on the fake server (ZALO_OA_API_BASE and
// ZALO_OA_OAUTH_BASE).
channelContract(import.meta.filename, () => zaloOaHarness());
