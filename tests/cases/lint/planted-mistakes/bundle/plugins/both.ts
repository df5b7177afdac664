export const Both = async () => ({})
