/** Confide's small design system: import components from here, styles come with `Shell`. */
export { Shell, PageHeader, ROLE_LINKS } from './Shell';
export { Card } from './Card';
export { Button, type ButtonVariant } from './Button';
export { Field, CheckGroup } from './Field';
export { Table } from './Table';
export { Progress, Steps } from './Progress';
export { Alert, ErrorAlert, type AlertTone } from './Alert';
export { Badge, type Tone } from './Badge';
export { Tabs, type TabDef } from './Tabs';
export { explain, explainText, type Explained } from './explain';
export { shortHex, formatTime, formatCount } from './format';
