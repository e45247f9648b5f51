import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { PhonePage } from './PhonePage';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
root.render(<StrictMode>{location.pathname === '/phone' ? <PhonePage /> : <App />}</StrictMode>);
