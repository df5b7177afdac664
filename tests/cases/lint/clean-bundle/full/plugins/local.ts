export const Local = async () => ({})
