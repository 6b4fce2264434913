/** Service / unit name: letters, digits and `_ . @ : -`, not starting with `-` or `.`. */
export const SERVICE_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_.@:-]*$/;
