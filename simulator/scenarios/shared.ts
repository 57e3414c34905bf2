/** Where fraudsters cash out: coin shops sell resellable in-game currency, and have no creator. */
export const coinShops = ['pixelcoin', 'gemshop'] as const;
