import { entity } from "larder";

export const user = entity({
  name: "user",
  joinKeys: { user_id: "int64" },
  description: "A card holder",
});

export const merchant = entity({
  name: "merchant",
  joinKeys: { merchant_id: "int64" },
  description: "A shop that takes card payments",
});
