// §12 Machine Inventory Report (`Inventory`, device → server): named items of named properties, as the
// inventory provider (dminfos.dll) writes them. No declaration and no namespace, like real clients.
import type { Inventory, InventoryItem } from './types.js';
import { El, openDocument } from './element.js';
import { el, need, serialize, serializeAsync, textEl, type XNode } from './writer.js';
import { MAX_REPORT_BYTES, type ParseOptions } from './xml.js';

const DOC = 'Inventory';

export function parseInventory(xml: string, options?: ParseOptions): Inventory {
  return readInventory(openDocument(xml, DOC, options, MAX_REPORT_BYTES));
}

export function readInventory(root: El): Inventory {
  // The root's type says which inventory this is; real clients write "machine", and a report without it can
  // only be the machine inventory, since that is the one document with this root.
  const type = root.attr('type');
  return {
    type: type === undefined || type === '' ? 'machine' : type,
    Items: root.all('InventoryItem').map((item): InventoryItem => ({
      name: item.requireAttr('name'),
      Properties: item.all('Property').map((p) => ({ name: p.requireAttr('name'), value: p.text() })),
    })),
  };
}

export function buildInventory(v: Inventory): string {
  return serialize(inventoryNode(v), OPTIONS);
}

/** buildInventory, giving the event loop back between slices (a device may report thousands of items). */
export function buildInventoryAsync(v: Inventory): Promise<string> {
  return serializeAsync(inventoryNode(v), OPTIONS);
}

const OPTIONS = { declaration: false, namespace: false };

function inventoryNode(v: Inventory): XNode {
  return {
    name: DOC,
    attrs: [['type', v.type]],
    more: {
      count: v.Items.length,
      make: (i) => {
        const item = v.Items[i] as InventoryItem;
        return el('InventoryItem', [['name', need(item.name, DOC, `/${DOC}/InventoryItem[${i + 1}]/@name`)]],
          ...item.Properties.map((p, j) => textEl('Property', p.value,
            [['name', need(p.name, DOC, `/${DOC}/InventoryItem[${i + 1}]/Property[${j + 1}]/@name`)]])));
      },
    },
  };
}
