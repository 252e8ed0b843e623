/**
 * antd 5 renders a few things outside the React tree (the click wave, static message/modal) with
 * React 18's legacy `render`, which React 19 removed. antd's own hook for that case: render them
 * with a React 19 root (what @ant-design/v5-patch-for-react-19 does, without the extra package).
 */
import { unstableSetRender } from 'antd';
import { createRoot, type Root } from 'react-dom/client';

const roots = new WeakMap<Element | DocumentFragment, Root>();

unstableSetRender((node, container) => {
  let root = roots.get(container);
  if (!root) {
    root = createRoot(container);
    roots.set(container, root);
  }
  root.render(node);
  return async () => {
    await new Promise((resolve) => { setTimeout(resolve, 0); });
    root.unmount();
    roots.delete(container);
  };
});
