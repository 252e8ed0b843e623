import { installCspStyles } from './csp-styles.ts';

installCspStyles();
