/**
 * The only module that touches @vscode/webview-ui-toolkit. The toolkit is
 * deprecated upstream; every view asks this module for its controls so that a
 * replacement means changing this file alone.
 */
import {
  provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDataGrid, vsCodeDataGridCell,
  vsCodeDataGridRow, vsCodeDivider, vsCodeDropdown, vsCodeOption, vsCodeProgressRing, vsCodeTag, vsCodeTextField,
  vsCodeBadge, vsCodePanels, vsCodePanelTab, vsCodePanelView,
} from '@vscode/webview-ui-toolkit';

let registered = false;
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(), vsCodeCheckbox(), vsCodeDataGrid(), vsCodeDataGridCell(), vsCodeDataGridRow(), vsCodeDivider(),
    vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTag(), vsCodeTextField(), vsCodeBadge(),
    vsCodePanels(), vsCodePanelTab(), vsCodePanelView(),
  );
}

export function button(label: string, onClick: () => void, opts: { appearance?: 'primary' | 'secondary' | 'icon'; id?: string; title?: string } = {}): HTMLElement {
  registerToolkit();
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (opts.appearance) b.setAttribute('appearance', opts.appearance);
  if (opts.id) b.id = opts.id;
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', onClick);
  return b;
}

export function tag(label: string, className?: string): HTMLElement {
  registerToolkit();
  const t = document.createElement('vscode-tag');
  t.textContent = label;
  if (className) t.className = className;
  return t;
}

export function divider(): HTMLElement {
  registerToolkit();
  return document.createElement('vscode-divider');
}

export function textField(placeholder: string, onInput: (value: string) => void, opts: { id?: string; value?: string } = {}): HTMLElement {
  registerToolkit();
  const f = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  f.setAttribute('placeholder', placeholder);
  if (opts.id) f.id = opts.id;
  if (opts.value) f.value = opts.value;
  f.addEventListener('input', () => onInput(f.value));
  return f;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, opts: { id?: string } = {}): HTMLElement {
  registerToolkit();
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  if (opts.id) c.id = opts.id;
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

export function dropdown(options: { value: string; label: string }[], value: string, onChange: (value: string) => void, opts: { id?: string } = {}): HTMLElement {
  registerToolkit();
  const d = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  if (opts.id) d.id = opts.id;
  for (const o of options) {
    const opt = document.createElement('vscode-option') as HTMLElement & { value: string };
    opt.setAttribute('value', o.value);
    opt.textContent = o.label;
    if (o.value === value) opt.setAttribute('selected', '');
    d.appendChild(opt);
  }
  d.addEventListener('change', () => onChange(d.value));
  return d;
}

export function progressRing(): HTMLElement {
  registerToolkit();
  return document.createElement('vscode-progress-ring');
}
